"""What one `registration_rush` request costs, measured in a single process (see bench/README.md).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mire_profile python bench/profile_registration.py 500
    ... profile_registration.py 500 --capacity 0        # the waiting-list path
    ... profile_registration.py 300 --cprofile 25       # plus cProfile's top 25 by own time
    ... profile_registration.py 1 --sql                 # the SQL of one registration
    ... profile_registration.py 2000 --processes 5      # 5 processes at once, like gunicorn's workers

Sends N registrations, the body of bench/scenarios.py's `registration_rush`, through Django's WSGI
handler (the whole middleware stack, as under gunicorn, but no HTTP) to a fresh event of
bench/fixtures.py, after a warm-up that is not counted. For comparison it also sends N requests of
the `ceiling` scenario (/healthz). It prints, per request:

- `cpu_ms`: this process's CPU time (time.process_time). The main figure: on a shared machine
  wall-clock depends on the neighbours, CPU time hardly does;
- `db_cpu_ms`: the CPU time of this connection's PostgreSQL server process, read from /proc when
  the server runs on this machine (gunicorn and PostgreSQL share the cores in the benchmark);
- `sql`: statements Django sends through its cursors;
- `tx`: transactions committed (each adds a BEGIN and a COMMIT, which waits for the WAL flush);
- `wall_ms`: elapsed time, for a rough idea only.

With `--processes K`, K forked processes share the N requests of each scenario, all on one event,
as gunicorn's sync workers do: the line gives `per_s` (requests per second) and `cpu_ms` (the
processes' CPU per request), and the registrations' `ratio` to the ceiling. This shows what waiting
for the event's row lock costs; it depends on the machine's other load, like the benchmark.

The database must be migrated; the script adds the `milano` territory when it is missing. Its
registrations and events stay there. Never point it at the database bench/run.py recreates while a
benchmark may run. The environment is the benchmark's (bench/run.py `app_env`), with `testserver`
allowed; variables already set win.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH_DIR.parent), str(BENCH_DIR)]
for name, value in {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench",
    "ALLOWED_HOSTS": "testserver",
    "RATELIMIT_ENABLED": "false",
    "SECURE_SSL_REDIRECT": "false",
    "LOG_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(name, value)
if "DATABASE_URL" not in os.environ:
    sys.exit("Set DATABASE_URL to a migrated database of your own (not the one bench/run.py recreates).")

# WhiteNoise warns that var/bench/static is missing; the API needs no static files.
warnings.filterwarnings("ignore", "No directory at", UserWarning)

import django  # noqa: E402

django.setup()

import fixtures  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection, connections  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402

from core.models import Territory  # noqa: E402
from network import demo  # noqa: E402

HANDLER = WSGIHandler()


def wsgi_call(path: str, method: str = "GET", headers: dict[str, str] | None = None, body: bytes = b"") -> int:
    """One request through the WSGI handler, as gunicorn would make it; returns the status code."""
    path, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else f"HTTP_{key}"] = value
    status = []
    response = HANDLER(environ, lambda s, h, exc_info=None: status.append(s))
    for _chunk in response:
        pass
    response.close()
    return int(status[0].split()[0])


class StatementCounter:
    """Counts (and optionally prints) every statement this connection sends, and its commits."""

    def __init__(self, echo: bool = False):
        self.count, self.commits, self.echo = 0, 0, echo

    @contextmanager
    def commits_counted(self):
        commit = connection.commit

        def counted_commit():
            self.commits += 1
            if self.echo:
                print("  sql: COMMIT")
            commit()

        connection.commit = counted_commit  # an instance attribute: Atomic.__exit__ calls this one
        try:
            yield
        finally:
            del connection.commit

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        if self.echo:
            print(f"  sql: {sql % tuple(repr(p) for p in params) if params else sql}"[:400])
        return execute(sql, params, many, context)


def server_cpu_s() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL process, if it runs on this machine."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def measure(label: str, send, n: int, *, echo_sql: bool = False, profile: cProfile.Profile | None = None) -> dict:
    counter = StatementCounter(echo_sql)
    with connection.execute_wrapper(counter), counter.commits_counted():
        db_before = server_cpu_s()
        wall, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        for i in range(n):
            send(i)
        if profile:
            profile.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        db_after = server_cpu_s()
    # The two /proc reads send one statement each; they are not the requests'.
    statements = counter.count - (2 if db_before is not None else 0)
    result = {
        "scenario": label,
        "n": n,
        "cpu_ms": round(cpu * 1000 / n, 2),
        "db_cpu_ms": round((db_after - db_before) * 1000 / n, 2) if db_before is not None else None,
        "sql": round(statements / n, 2),
        "tx": round(counter.commits / n, 2),
        "wall_ms": round(wall * 1000 / n, 2),
    }
    print(" ".join(f"{key}={value}" for key, value in result.items() if value is not None), flush=True)
    return result


def measure_concurrently(label: str, send, n: int, processes: int, ceiling: dict | None = None) -> dict:
    """`send(0)` to `send(n - 1)` spread over `processes` forked processes; rate and CPU per request."""
    connections.close_all()  # each process opens its own connection
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    children = []
    for k in range(processes):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                for i in range(k, n, processes):
                    send(i)
                code = 0
            finally:
                os._exit(code)
        children.append(pid)
    failed = sum(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0 for pid in children)
    wall = time.perf_counter() - wall
    if failed:
        sys.exit(f"{failed} of {processes} processes failed")
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    result = {
        "scenario": label,
        "processes": processes,
        "n": n,
        "per_s": round(n / wall),
        "cpu_ms": round(cpu * 1000 / n, 2),
        "wall_ms": round(wall * 1000 / n * processes, 2),
    }
    if ceiling:
        result["ratio"] = round(result["per_s"] / ceiling["per_s"], 2)
    print(" ".join(f"{key}={value}" for key, value in result.items()), flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, nargs="?", default=500, help="measured requests per scenario (default 500)")
    parser.add_argument("--warmup", type=int, default=50, help="requests sent first and not counted (default 50)")
    parser.add_argument("--capacity", type=int, help="seats of the measured event (default: one per request)")
    parser.add_argument("--language", default="it", help="Accept-Language of the registrations (default it)")
    parser.add_argument("--processes", type=int, help="send from this many processes at once")
    parser.add_argument("--sql", action="store_true", help="print every statement of the measured registrations")
    parser.add_argument("--cprofile", type=int, metavar="TOP", help="print cProfile's TOP functions by own time")
    args = parser.parse_args()

    fixtures_territory = fixtures.TERRITORY
    if not Territory.objects.filter(slug=fixtures_territory).exists():
        Territory.objects.create(**{**demo.TERRITORY, "slug": fixtures_territory})
    (request,) = SCENARIOS["registration_rush"].requests
    headers = {**request.headers, "Accept-Language": args.language}
    run_id = time.strftime("%H%M%S") + f"-{os.getpid()}"

    def registrations(event_id: int, tag: str):
        path = request.path.replace("{event}", str(event_id))

        def send(i: int) -> None:
            body = request.body.replace("{seq}", f"{run_id}-{tag}-{i}").encode()
            status = wsgi_call(path, request.method, headers, body)
            if status != 201:
                sys.exit(f"registration {i} answered {status}")

        return send

    def ceiling(i: int) -> None:
        if wsgi_call("/healthz") != 200:
            sys.exit("/healthz did not answer 200")

    warmup_event = fixtures.create_event(args.warmup + 1)["id"]
    for i in range(args.warmup):
        registrations(warmup_event, "warmup")(i)
        ceiling(i)
    event = fixtures.create_event(args.n if args.capacity is None else args.capacity)
    send = registrations(event["id"], "measured")
    if args.processes:
        base = measure_concurrently("ceiling", ceiling, args.n, args.processes)
        measure_concurrently("registration_rush", send, args.n, args.processes, ceiling=base)
        print(json.dumps(fixtures.count_event(event["id"])))
        return
    # Timed by CPU, not wall-clock: waiting for the database costs this process nothing.
    profile = cProfile.Profile(time.process_time) if args.cprofile else None
    measure("ceiling", ceiling, args.n)
    measure("registration_rush", send, args.n, echo_sql=args.sql, profile=profile)
    print(json.dumps(fixtures.count_event(event["id"])))
    if profile:
        stats = pstats.Stats(profile, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(args.cprofile)
        stats.sort_stats("cumulative").print_stats(args.cprofile)


if __name__ == "__main__":
    main()
