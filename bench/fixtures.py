"""Rows a scenario needs before it runs, and what it left behind; called by bench/run.py.

    DATABASE_URL=... python bench/fixtures.py create-event --capacity 3000
    DATABASE_URL=... python bench/fixtures.py count-event 42

`create-event` adds one published event of the bench territory, open for registration, with the
given capacity and no questions, tables or organisers, and prints `{"id": …, "capacity": …}`. Each
call makes a new event (its slug carries the time), so every run of a writing scenario starts from
an empty event even with --keep-data. `count-event` prints the event's registrations by status, its
capacity and its `seats_taken` counter as JSON. `welfare-ids` and `count-welfare` serve welfare_spend.

It runs as a separate process with the app's environment, like generate.py: run.py itself does not
load Django.
"""

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.db.models import Count, Sum  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import ApiToken  # noqa: E402
from core.models import Territory  # noqa: E402
from events.models import Event, Registration  # noqa: E402
from welfare import ledger  # noqa: E402
from welfare.models import Account, Category, Order, Service, Wallet  # noqa: E402

TERRITORY = "milano"  # as in generate.py and scenarios.py


def create_event(capacity: int) -> dict:
    now = timezone.now()
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{time.monotonic_ns() % 1_000_000:06d}"
    starts_at = (now + timedelta(days=30)).replace(hour=9, minute=30, second=0, microsecond=0)
    event = Event.objects.create(
        territory=Territory.objects.get(slug=TERRITORY),
        slug=f"bench-assemblea-{stamp}",
        title="Assemblea cittadina della rete per la conciliazione",
        summary="La giornata annuale della rete: buone pratiche di welfare aziendale e servizi di quartiere.",
        description="Programma, relatori e tavoli di lavoro sul sito della rete.",
        mode=Event.Mode.IN_PERSON,
        venue_name="Fabbrica del Vapore",
        venue_address="Via Giulio Cesare Procaccini 4, Milano",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=8),
        capacity=capacity,
        registration_opens_at=now - timedelta(days=1),
        is_published=True,
    )
    return {"id": event.pk, "capacity": event.capacity}


def count_event(event_id: int) -> dict:
    event = Event.objects.get(pk=event_id)
    by_status = dict(
        Registration.objects.filter(event=event).values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    return {
        "id": event.pk,
        "capacity": event.capacity,
        "seats_taken": event.seats_taken,
        **{status: by_status.get(status, 0) for status in Registration.Status.values},
    }


def welfare_ids() -> dict:
    """How many bench wallets (worker n holds token n), and services they can buy (no fringe benefits)."""
    services = (
        Service.objects.filter(slug__startswith="bench-servizio-", is_published=True, provider__is_active=True)
        .exclude(category=Category.FRINGE).order_by("pk").values_list("pk", flat=True)[:500]
    )
    return {"wallets": ApiToken.objects.filter(name="bench").count(), "services": list(services)}


def count_welfare() -> dict:
    """After welfare_spend: the orders, wallets that spent more than they were given, the ledger's proof."""
    spent = Order.objects.standing().values("wallet").annotate(total=Sum("amount_cents"))
    given = dict(Wallet.objects.values_list("pk", "tier__amount_cents"))
    overspent = sum(1 for row in spent if row["total"] > given[row["wallet"]])
    negative = Account.objects.filter(kind=Account.Kind.WALLET, balance_cents__lt=0).count()
    return {"orders": Order.objects.count(), "overdrafts": overspent + negative, "ledger_problems": len(ledger.verify())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-event")
    create.add_argument("--capacity", type=int, required=True)
    count = commands.add_parser("count-event")
    count.add_argument("event_id", type=int)
    commands.add_parser("welfare-ids")
    commands.add_parser("count-welfare")
    args = parser.parse_args()
    if args.command == "create-event":
        result = create_event(args.capacity)
    elif args.command == "count-event":
        result = count_event(args.event_id)
    elif args.command == "welfare-ids":
        result = welfare_ids()
    else:
        result = count_welfare()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
