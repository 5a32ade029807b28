"""What one cold directory request costs inside Django: CPU, SQL statements and SQL time.

    .venv/bin/python bench/profile_directory.py                 # 300 requests of directory_search
    .venv/bin/python bench/profile_directory.py -n 600 --cprofile 25
    .venv/bin/python bench/profile_directory.py --scenario directory_map -n 60
    .venv/bin/python bench/profile_directory.py --snapshot var/dir-before   # then diff -r two snapshots

Runs in one process against the bench database that `bench/run.py` filled (PostgreSQL `mire_bench`,
or var/bench.sqlite3 with BENCH_DB=sqlite) with the bench settings (DEBUG=false, locmem cache), and
sends the scenario's own requests (bench/scenarios.py, `{seq}` made unique as wrk does) through
django.test.Client, so the whole middleware stack runs. The first pass over the list warms imports,
templates and the connection and is not counted.

CPU time (time.process_time) is the figure to compare between changes: on a shared machine
wall-clock time moves with other people's work, CPU time much less. SQL time is wall-clock around
each statement (it includes the database's own work and the round trip). `ceiling` is /healthz
measured the same way: CPU(ceiling) / CPU(scenario) is roughly the ratio_to_ceiling the load test
can reach, minus what gunicorn and the network add to every request alike.

`--snapshot DIR` instead writes the body of every distinct request of the scenario (without the
`bench=` parameter, in Italian and in English) to DIR, so `diff -r` shows whether a change altered
what people get.
"""

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/") + "/mire_bench"
SQLITE_URL = f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": SQLITE_URL if os.environ.get("BENCH_DB", "").lower() == "sqlite" else PG_URL,
        "DEBUG": "false",
        "SECRET_KEY": "bench",
        "ALLOWED_HOSTS": "testserver",
        "RATELIMIT_ENABLED": "false",
        "SECURE_SSL_REDIRECT": "false",
        "LOG_LEVEL": "WARNING",
    }
)
os.environ.pop("CACHE_URL", None)  # each run starts from an empty in-process cache

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402

import network.views  # noqa: E402

# How many result cards came from the cache (core.cache.fragments) and how many were rendered.
FRAGMENTS = {"shown": 0, "rendered": 0}


def counting_fragments(request, name, items, render):
    def counted(item):
        FRAGMENTS["rendered"] += 1
        return render(item)

    FRAGMENTS["shown"] += len(items)
    return fragments(request, name, items, counted)


fragments = getattr(network.views, "fragments", None)
if fragments is not None:  # absent before the cards were cached: to profile an older commit too
    network.views.fragments = counting_fragments


class SqlMeter:
    """Counts statements and their wall time through Django's execute wrapper (works with DEBUG off)."""

    def __init__(self):
        self.statements = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.statements += 1


def meta(headers: dict[str, str]) -> dict[str, str]:
    """Request headers as django.test.Client takes them (HX-Request → HTTP_HX_REQUEST)."""
    return {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}


def requests_of(name: str, n: int, run: str):
    """n requests going round the scenario's list, each `{seq}` unique (`run` keeps passes apart)."""
    scenario = SCENARIOS[name]
    for i in range(n):
        r = scenario.requests[i % len(scenario.requests)]
        yield r.path.replace("{seq}", f"{run}-{i}"), meta(r.headers)


def measure(client: Client, name: str, n: int, *, run: str, profiler: cProfile.Profile | None = None) -> dict:
    meter = SqlMeter()
    statuses = set()
    FRAGMENTS.update(shown=0, rendered=0)
    with connection.execute_wrapper(meter):
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for path, headers in requests_of(name, n, run):
            statuses.add(client.get(path, **headers).status_code)
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if statuses != {200}:
        raise SystemExit(f"{name}: answers other than 200: {sorted(statuses)}")
    return {
        "cpu_ms": 1000 * cpu / n,
        "wall_ms": 1000 * wall / n,
        "sql": meter.statements / n,
        "sql_ms": 1000 * meter.seconds / n,
        "cards_from_cache": 1 - FRAGMENTS["rendered"] / FRAGMENTS["shown"] if FRAGMENTS["shown"] else None,
    }


def snapshot(client: Client, name: str, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    seen = set()
    for r in SCENARIOS[name].requests:
        path = r.path.replace("?bench={seq}", "").replace("&bench={seq}", "")
        headers = meta(r.headers)
        for language in ("it", "en"):
            key = (path, tuple(sorted(headers.items())), language)
            if key in seen:
                continue
            seen.add(key)
            response = client.get(path, HTTP_ACCEPT_LANGUAGE=language, **headers)
            name = path.strip("/").replace("/", "_").replace("?", "-").replace("&", "-")
            (directory / f"{language}-{'htmx' if headers else 'page'}-{name}.html").write_bytes(response.content)
    print(f"{len(seen)} responses in {directory}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=300, help="measured requests (default 300)")
    parser.add_argument("--scenario", default="directory_search")
    parser.add_argument("--cprofile", type=int, metavar="N", default=0, help="print the top N functions by own time")
    parser.add_argument("--snapshot", type=Path, metavar="DIR", help="write each distinct response to DIR instead")
    args = parser.parse_args()

    client = Client()
    if args.snapshot:
        snapshot(client, args.scenario, args.snapshot)
        return
    warm = len(SCENARIOS[args.scenario].requests)
    measure(client, "ceiling", 50, run="warm")
    measure(client, args.scenario, warm, run="warm")
    ceiling = measure(client, "ceiling", max(200, args.n), run="measured")
    profiler = cProfile.Profile() if args.cprofile else None
    result = measure(client, args.scenario, args.n, run="measured", profiler=profiler)

    for name, figures in (("ceiling", ceiling), (args.scenario, result)):
        cards = figures["cards_from_cache"]
        print(
            f"{name}: cpu_ms={figures['cpu_ms']:.2f} wall_ms={figures['wall_ms']:.2f} "
            f"sql={figures['sql']:.2f} sql_ms={figures['sql_ms']:.2f}"
            + ("" if cards is None else f" cards_from_cache={cards:.2f}")
        )
    print(f"cpu_ratio={ceiling['cpu_ms'] / result['cpu_ms']:.2f} (ceiling CPU over {args.scenario} CPU, n={args.n})")
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.cprofile)
        stats.sort_stats("cumulative").print_stats(args.cprofile)


if __name__ == "__main__":
    main()
