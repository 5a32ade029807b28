"""Load-test MIRE under gunicorn and print one line per scenario (see bench/README.md).

    make bench BENCH_ARGS="--scale M --duration 20 --concurrency 32"
    BENCH_DB=sqlite make bench

Creates the `mire_bench` PostgreSQL database (`BENCH_PG_DB` names another) or var/bench.sqlite3, fills
it at the chosen scale, starts gunicorn on 127.0.0.1, measures `ceiling` and then each scenario, and
stops gunicorn.
"""

import argparse
import dataclasses
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import load
import machine
import psycopg
from scenarios import SCENARIOS, Scenario, welfare_spend_requests

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
PY = sys.executable
PG_SERVER_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
# Dropped and recreated by each run: two people benchmarking on one server each name their own.
PG_DATABASE = os.environ.get("BENCH_PG_DB", "mire_bench")
if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", PG_DATABASE):  # it goes into DROP/CREATE DATABASE as is
    sys.exit(f"BENCH_PG_DB={PG_DATABASE!r}: use lower-case letters, digits and underscores")
SQLITE_PATH = ROOT / "var" / "bench.sqlite3"
STATIC_ROOT = ROOT / "var" / "bench" / "static"  # as in bench/settings.py
RESULTS = BENCH_DIR / "RESULTS.md"
GUNICORN_LOG = load.OUT_DIR / "gunicorn.log"
WARMUP_S = 3
# Other programs may take this share of the machine during a scenario before its figures are flagged.
OTHER_CPU_MAX = 0.10
# As docs/operations.md deploys. On 2 cores, 2 to 5 sync workers measured the same within run-to-run
# noise and 8 did clearly worse (bench/RESULTS.md): the app is CPU-bound against a local database.
DEFAULT_WORKERS = 2 * machine.CORES + 1
# wrk threads: one per core; more only adds context switches.
WRK_THREADS = machine.CORES
# The event a `fixture="event"` scenario fills gets the seats the warm-up's rate would take in half of
# --duration: seats for the first half of the run, the waiting list for the second, whatever the rate
# (a fixed 150 seats/s never filled at the ~80/s measured on 2 cores). The warm-up's own event has
# more seats than it can take, so the warm-up measures the rate of confirmed registrations.
EVENT_FILL_SHARE = 0.5
WARMUP_EVENT_CAPACITY = 1_000_000


def main() -> None:
    args = parse_args()
    database = "sqlite" if os.environ.get("BENCH_DB", "").lower() == "sqlite" else "postgresql"
    env = app_env(database_url(database))
    prepare_database(database, env, scale=args.scale, keep_data=args.keep_data)
    if static_is_stale():
        print("# collecting static files (only when they changed; takes a few minutes)", flush=True)
        manage(env, "collectstatic", "--noinput", "--verbosity=0")

    header = header_line(database, args)
    print(header, flush=True)
    warnings = [] if load.wrk_available() else [NO_WRK]
    for warning in warnings:
        print(warning, flush=True)
    with gunicorn(env, workers=args.workers) as (base_url, server_pid):

        def own_pids() -> list[int]:
            return [server_pid, *machine.children(server_pid), *backends(database)]

        lines = warnings + run_scenarios(args, base_url, env=env, own_pids=own_pids)
    if args.record:
        record(header, lines)


def run_scenarios(args: argparse.Namespace, base_url: str, *, env: dict[str, str], own_pids) -> list[str]:
    lines = []
    ceiling_rps = None
    other_cpu = machine.OtherCpu(own_pids)
    for name in args.scenarios:
        scenario = SCENARIOS[name]
        if scenario.fixture == "wallets":
            ids = fixture(env, "welfare-ids")
            if not ids["services"] or not ids["wallets"]:
                sys.exit(f"{name}: the bench database holds no welfare data; run without --keep-data")
            requests = welfare_spend_requests(wallets=ids["wallets"], services=ids["services"])
            scenario = dataclasses.replace(scenario, requests=requests)
        check_scenario(scenario, base_url)
        options = {"concurrency": args.concurrency, "threads": WRK_THREADS}
        measured, event_id = scenario, None
        if scenario.fixture == "event":
            # The warm-up writes to an event of its own, so the measured run starts from an empty one.
            warmup = with_event(scenario, fixture(env, "create-event", f"--capacity={WARMUP_EVENT_CAPACITY}")["id"])
            check_scenario(warmup, base_url, writes=True)
            warm = load.run(warmup, base_url, duration=min(WARMUP_S, args.duration), **options)
            capacity = max(1, round(warm.rps * args.duration * EVENT_FILL_SHARE))
            event_id = fixture(env, "create-event", f"--capacity={capacity}")["id"]
            measured = with_event(scenario, event_id)
        else:
            load.run(scenario, base_url, duration=min(WARMUP_S, args.duration), **options)
        other_cpu.start()
        result = load.run(measured, base_url, duration=args.duration, **options)
        others = other_cpu.share()
        if ceiling_rps is None:
            ceiling_rps = result.rps
        ratio = result.rps / ceiling_rps if ceiling_rps else 0.0
        line = (
            f"scenario={name} rps={result.rps:.0f} p50_ms={result.p50_ms:.1f} p99_ms={result.p99_ms:.1f} "
            f"errors={result.errors} ratio_to_ceiling={ratio:.2f}"
        )
        problems = []
        if event_id is not None:
            fields, problems = event_outcome(fixture(env, "count-event", str(event_id)))
            line += " " + fields
        if scenario.fixture == "wallets":
            fields, problems = wallets_outcome(fixture(env, "count-welfare"))
            line += " " + fields
        print(line, flush=True)
        lines.append(line)
        for problem in problems:
            print(problem, flush=True)
            lines.append(problem)
        if others > OTHER_CPU_MAX:
            warning = f"# warning: other programs used {others:.0%} of the machine during {name}; figures unreliable"
            print(warning, flush=True)
            lines.append(warning)
    return lines


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["S", "M", "L"], default="M", help="data size; M is a large city (default)")
    parser.add_argument("--duration", type=float, default=20, help="seconds per scenario (default 20)")
    parser.add_argument("--concurrency", type=int, default=32, help="open connections (default 32)")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated; `ceiling` always runs first (default: {','.join(SCENARIOS)})",
    )
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help=f"gunicorn sync workers (default {DEFAULT_WORKERS})"
    )
    parser.add_argument("--keep-data", action="store_true", help="reuse the bench database if it holds this scale")
    parser.add_argument("--record", action="store_true", help="append the figures to bench/RESULTS.md")
    args = parser.parse_args()
    names = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    # Every ratio is against the ceiling of the same run, on the same machine state.
    args.scenarios = ["ceiling", *(name for name in names if name != "ceiling")]
    return args


def database_url(database: str) -> str:
    if database == "sqlite":
        return f"sqlite:///{SQLITE_PATH}"
    return f"{PG_SERVER_URL}/{PG_DATABASE}"


def app_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": url,
        "DEBUG": "false",
        "SECRET_KEY": "bench",
        "ALLOWED_HOSTS": "127.0.0.1",
        "RATELIMIT_ENABLED": "false",
        # Plain HTTP on the loopback; in production TLS ends at the proxy in front of gunicorn.
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
    }


def manage(env: dict[str, str], *command: str) -> None:
    subprocess.run([PY, "manage.py", *command], cwd=ROOT, env=env, check=True)


def prepare_database(database: str, env: dict[str, str], *, scale: str, keep_data: bool) -> None:
    if keep_data and stored_scale(database) == scale:
        print(f"# reusing the {database} bench database at scale {scale}", flush=True)
        manage(env, "migrate", "--noinput", "--verbosity=0")
        # A bench database made before the welfare scenarios existed gets their data now.
        subprocess.run([PY, str(BENCH_DIR / "welfare_data.py"), f"--scale={scale}", "--if-missing"], cwd=ROOT, env=env,
                       check=True)
        return
    if database == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
        SQLITE_PATH.parent.mkdir(exist_ok=True)
    else:
        with psycopg.connect(f"{PG_SERVER_URL}/postgres", autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {PG_DATABASE}")
    manage(env, "migrate", "--noinput", "--verbosity=0")
    subprocess.run([PY, str(BENCH_DIR / "generate.py"), f"--scale={scale}"], cwd=ROOT, env=env, check=True)


def stored_scale(database: str) -> str | None:
    """The scale bench/generate.py recorded, or None when there is no usable bench database."""
    query = "SELECT scale FROM bench_dataset"
    try:
        if database == "sqlite":
            if not SQLITE_PATH.exists():
                return None
            with sqlite3.connect(SQLITE_PATH) as connection:
                row = connection.execute(query).fetchone()
        else:
            with psycopg.connect(f"{PG_SERVER_URL}/{PG_DATABASE}") as connection:
                row = connection.execute(query).fetchone()
    except (sqlite3.Error, psycopg.Error) as error:
        print(f"# no reusable bench database: {error}", flush=True)
        return None
    return row[0] if row else None


def static_is_stale() -> bool:
    """With DEBUG=false every page needs the static manifest; building it compresses 40 MB of assets."""
    manifest = STATIC_ROOT / "staticfiles.json"
    if not manifest.exists():
        return True
    vendored = [ROOT / "node_modules" / package / "dist" for package in ("bootstrap-italia", "htmx.org", "leaflet")]
    sources = [ROOT / "static", *ROOT.glob("*/static"), *vendored]  # STATICFILES_DIRS and app static dirs
    # Installed packages (admin, allauth) bring static files too; the Makefile touches this on install.
    newest = (ROOT / ".venv" / ".installed").stat().st_mtime if (ROOT / ".venv" / ".installed").exists() else 0
    for source in sources:
        for directory, _, files in os.walk(source):
            for name in files:
                newest = max(newest, os.stat(os.path.join(directory, name)).st_mtime)
    return newest > manifest.stat().st_mtime


def backends(database: str) -> list[int]:
    """The bench database's PostgreSQL server processes: the app's own CPU, spent in the database."""
    if database == "sqlite":
        return []
    with psycopg.connect(f"{PG_SERVER_URL}/postgres") as connection:
        rows = connection.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [PG_DATABASE]).fetchall()
    return [pid for (pid,) in rows]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int, app: str = "config.wsgi"):
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    GUNICORN_LOG.parent.mkdir(exist_ok=True)
    command = [
        str(Path(PY).parent / "gunicorn"),
        app,
        f"--bind=127.0.0.1:{port}",
        f"--workers={workers}",
        "--worker-class=sync",
        f"--error-logfile={GUNICORN_LOG}",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    try:
        wait_until_up(server, base_url + "/healthz")
        yield base_url, server.pid
    finally:
        server.send_signal(signal.SIGTERM)  # gunicorn's graceful shutdown
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_until_up(server: subprocess.Popen, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}; see {GUNICORN_LOG}")
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                if response.status == 200:
                    return
        except OSError:  # refused while gunicorn binds, or a timeout while a worker boots
            pass
        time.sleep(0.2)
    sys.exit(f"gunicorn did not answer {url} within {timeout:.0f}s; see {GUNICORN_LOG}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def check_scenario(scenario: Scenario, base_url: str, *, writes: bool = False) -> None:
    """Send each GET once before loading: a scenario answering 301 or 500 measures nothing.

    With `writes`, the other methods too (once each, with `{seq}` as `check-N`): only for requests
    that write to a throwaway fixture, such as the warm-up's event.
    """
    opener = urllib.request.build_opener(NoRedirect)
    for n, r in enumerate(scenario.requests):
        if r.method != "GET" and not writes:
            continue
        seq = f"check-{n}"
        request = urllib.request.Request(
            base_url + r.path.replace("{seq}", seq),
            data=r.body.replace("{seq}", seq).encode() or None,
            headers={k: v.replace("{seq}", seq) for k, v in r.headers.items()},
            method=r.method,
        )
        try:
            with opener.open(request, timeout=30) as response:
                status, answer = response.status, b""
        except urllib.error.HTTPError as error:
            status, answer = error.code, error.read()
        if not 200 <= status <= 299:
            detail = f": {answer[:500].decode(errors='replace')}" if answer else ""
            sys.exit(f"{scenario.name}: {r.method} {r.path} answered {status}{detail}; see {GUNICORN_LOG}")


def with_event(scenario: Scenario, event_id: int) -> Scenario:
    """The scenario with `{event}` in its paths replaced by the fixture event's id."""
    requests = [dataclasses.replace(r, path=r.path.replace("{event}", str(event_id))) for r in scenario.requests]
    return dataclasses.replace(scenario, requests=requests)


def fixture(env: dict[str, str], *command: str) -> dict:
    """Run bench/fixtures.py (Django, the app's environment) and return the JSON it prints."""
    output = subprocess.run(
        [PY, str(BENCH_DIR / "fixtures.py"), *command], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def wallets_outcome(counts: dict) -> tuple[str, list[str]]:
    """welfare_spend's extra fields: `overdrafts` (wallets that spent more than they were given, or
    went negative) and `ledger_problems` (what `manage.py verify_ledger` would report) must be 0."""
    problems = []
    if counts["overdrafts"]:
        problems.append(f"# error: {counts['overdrafts']} wallets overdrawn")
    if counts["ledger_problems"]:
        problems.append(f"# error: verify_ledger finds {counts['ledger_problems']} problems")
    fields = f"orders={counts['orders']} overdrafts={counts['overdrafts']} ledger_problems={counts['ledger_problems']}"
    return fields, problems


def event_outcome(counts: dict) -> tuple[str, list[str]]:
    """The extra key=value fields of a scenario that filled an event, and `# error:`/`# note:` lines.

    overbooked counts confirmed registrations beyond the capacity; the event's `seats_taken` counter
    must equal the confirmed registrations (no offers are made during a rush, nobody cancels).
    """
    confirmed, waitlisted, capacity = counts["confirmed"], counts["waitlisted"], counts["capacity"]
    overbooked = max(0, confirmed - capacity)
    fields = (
        f"capacity={capacity} confirmed={confirmed} waitlisted={waitlisted} overbooked={overbooked} "
        f"seats_taken={counts['seats_taken']}"
    )
    problems = []
    if overbooked:
        problems.append(f"# error: {overbooked} confirmed registrations beyond the event's {capacity} seats")
    if counts["seats_taken"] != confirmed:
        problems.append(f"# error: the event counts {counts['seats_taken']} seats taken for {confirmed} confirmed")
    others = {status: n for status, n in counts.items() if status in ("offered", "cancelled") and n}
    if others:
        problems.append(f"# error: unexpected registrations {others}")
    if not waitlisted:
        problems.append(
            "# note: the event never filled (slower than in the warm-up), so the waiting list was not measured"
        )
    return fields, problems


# Seen on one machine, one code: registration_rush 0.32 of the ceiling with the Python client, 0.23 with
# wrk. The client's own CPU slows the cheap ceiling more than the costly scenarios.
NO_WRK = (
    "# warning: wrk is missing (Debian: apt-get install wrk); the Python client shares the cores with the app, "
    "so these ratios are not comparable with wrk's"
)


def header_line(database: str, args: argparse.Namespace) -> str:
    loadgen = "wrk" if load.wrk_available() else "python-aiohttp"
    return (
        f"# bench date={datetime.now().astimezone():%Y-%m-%dT%H:%M%z} machine=\"{machine.describe()}\" "
        f"database={database_version(database)} scale={args.scale} concurrency={args.concurrency} "
        f"duration={args.duration:g}s workers={args.workers} loadgen={loadgen} load1={os.getloadavg()[0]:.1f}"
    )


def database_version(database: str) -> str:
    if database == "sqlite":
        return f"sqlite-{sqlite3.sqlite_version}"
    with psycopg.connect(f"{PG_SERVER_URL}/{PG_DATABASE}") as connection:
        return "postgresql-" + connection.execute("SHOW server_version").fetchone()[0].split()[0]


def record(header: str, lines: list[str]) -> None:
    with RESULTS.open("a") as results:
        results.write("\n```\n" + "\n".join([header, *lines]) + "\n```\n")
    print(f"# recorded in {RESULTS.relative_to(ROOT)}", flush=True)


if __name__ == "__main__":
    main()
