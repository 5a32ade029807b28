"""What one `welfare_spend` purchase or one `catalogue_search` request costs, in a single process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mire_bench python bench/profile_welfare.py welfare_spend 500
    ... profile_welfare.py catalogue_search 500
    ... profile_welfare.py welfare_spend 300 --cprofile 40   # plus cProfile's top 40 by cumulative time
    ... profile_welfare.py welfare_spend 1 --sql             # the SQL of one purchase

Like bench/profile_registration.py (whose measuring it uses, and whose figures it prints: `cpu_ms`,
`db_cpu_ms`, `sql`, `tx`, `wall_ms`), for the welfare scenarios of bench/scenarios.py: requests go
through Django's WSGI handler with the whole middleware stack, after a warm-up, beside as many
`ceiling` requests for comparison. The database must hold the bench's welfare data (bench/run.py makes
it; `--keep-data` reuses it); purchases spend a little of the bench wallets' credit, as a benchmark run
does. Never run it while a benchmark runs on the same database.
"""

import argparse
import cProfile
import pstats
import sys
import time

# First: it sets the benchmark's environment up before fixtures.py starts Django.
import profile_registration as single

# isort: split
import fixtures
from scenarios import SCENARIOS, welfare_spend_requests

WARMUP = 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario", choices=["welfare_spend", "catalogue_search"])
    parser.add_argument("n", type=int, nargs="?", default=500, help="measured requests (default 500)")
    parser.add_argument("--sql", action="store_true", help="print every statement of the measured requests")
    parser.add_argument("--cprofile", type=int, metavar="TOP", help="print cProfile's TOP functions by cumulative time")
    args = parser.parse_args()

    if args.scenario == "welfare_spend":
        ids = fixtures.welfare_ids()
        if not ids["wallets"] or not ids["services"]:
            sys.exit("No bench welfare data in this database: make it with bench/run.py first.")
        requests = welfare_spend_requests(wallets=ids["wallets"], services=ids["services"])
    else:
        requests = SCENARIOS[args.scenario].requests
    run_id = time.strftime("%H%M%S")

    def send(i: int) -> None:
        # Spread over the wallets as the benchmark's clients are; a fresh Idempotency-Key each time.
        r = requests[(i * 7919) % len(requests)]
        seq = f"profile-{run_id}-{i}"
        headers = {k: v.replace("{seq}", seq) for k, v in r.headers.items()}
        status = single.wsgi_call(
            r.path.replace("{seq}", seq), r.method, headers, r.body.replace("{seq}", seq).encode()
        )
        if not 200 <= status <= 299:
            sys.exit(f"{r.method} {r.path} answered {status}")

    def ceiling(i: int) -> None:
        if single.wsgi_call("/healthz") != 200:
            sys.exit("/healthz did not answer 200")

    for i in range(WARMUP):
        send(args.n + i)
        ceiling(i)
    profile = cProfile.Profile(time.process_time) if args.cprofile else None
    single.measure("ceiling", ceiling, args.n)
    single.measure(args.scenario, send, args.n, echo_sql=args.sql, profile=profile)
    if profile:
        pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(args.cprofile)


if __name__ == "__main__":
    main()
