"""The welfare part of the bench data: the providers' catalogue, firms' plans, workers' wallets, tokens.

    DATABASE_URL=... python bench/welfare_data.py --scale M [--if-missing]

Called by generate.py after the network (and by run.py with --keep-data when an older bench database
lacks it). At M: 3 services for each of the 1,500 providers, and 10,000 of the 100,000 workers
enrolled in their firm's plan, each with a wallet of €2,000 on a consistent ledger (the firm's
funding → the plan's pool → the wallet, as the services would have written it) and an API token
whose key is derived from its number (`token_for(n)`), so scenarios.py can send requests as worker
n without reading the database. The rows are seeded: the same scale gives the same data.
"""

import argparse
import hashlib
import os
import random
import sys
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.core.management.color import no_style  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from scenarios import BENCH_TOKEN  # noqa: E402  (bench/, next to this file)
from stdnum.it import codicefiscale  # noqa: E402

from accounts.models import ApiToken, Role  # noqa: E402
from core.models import Territory  # noqa: E402
from core.search import fold  # noqa: E402
from network.models import Organisation  # noqa: E402
from welfare.models import (  # noqa: E402
    Account,
    Category,
    Entry,
    Plan,
    PlanParticipant,
    PlanTier,
    Service,
    Transfer,
    Wallet,
    Worker,
)

SCALES = {"S": 0.1, "M": 1.0, "L": 10.0}
WALLETS = 10_000  # at M
SERVICES_PER_PROVIDER = 3
WALLET_CENTS = 200_000
SEED = 20261125
ROME = ZoneInfo("Europe/Rome")
TERRITORY = "milano"

# (category, words for titles, price range in cents, minutes saved)
CATALOGUE = [
    (Category.EDUCATION, ["Doposcuola", "Centro estivo", "Baby sitting", "Nido part time", "Aiuto compiti",
                          "Laboratorio per bambini", "Campus sportivo estivo"], (1500, 6000), 120),
    (Category.CARE, ["Assistenza domiciliare anziani", "Accompagnamento a visite mediche", "Sollievo per caregiver",
                     "Consegna pasti a domicilio", "Badante a ore"], (2000, 6000), 180),
    (Category.WELLBEING, ["Corso di yoga", "Palestra", "Piscina", "Teatro", "Visita guidata", "Corso di cucina",
                          "Psicologo", "Fisioterapia", "Corso di lingua inglese"], (1000, 5000), 0),
    (Category.TRANSPORT, ["Abbonamento ATM mensile", "Abbonamento bike sharing", "Abbonamento trasporto regionale"],
     (2200, 4000), 0),
    (Category.FRINGE, ["Buono spesa", "Buono carburante", "Spesa al mercato solidale"], (2500, 5000), 30),
]
PLACES = ["Navigli", "Lambrate", "Niguarda", "Barona", "Città Studi", "Isola", "Porta Romana", "Bovisa",
          "Gorla", "Baggio", "Forlanini", "Gratosoglio", "Quarto Oggiaro", "Corvetto", "Giambellino"]
PRIVATE = "!bench-unusable"


def token_for(n: int) -> str:
    """The API key of bench worker n: scenarios.py sends it, the database holds its hash like any token's."""
    return BENCH_TOKEN.format(n=n)


def wallets_at(scale: str) -> int:
    return max(1, round(WALLETS * SCALES[scale]))


def tax_code(n: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    code = ""
    for _ in range(6):
        n, rest = divmod(n, 26)
        code += letters[rest]
    base = f"{code}80A01F205"
    return base + codicefiscale.calc_check_digit(base)


def next_id(model) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(last=Max("pk"))["last"] or 0) + 1


def insert(model, columns: list[str], rows: list[tuple]) -> None:
    from generate import insert_rows

    insert_rows(model, columns, rows)


def generate(scale: str) -> dict[str, int]:
    rng = random.Random(SEED)
    territory = Territory.objects.get(slug=TERRITORY)
    municipi = list(territory.municipi.order_by("number"))
    now = datetime(2026, 1, 1, 9, 0, tzinfo=ROME)
    year = date.today().year
    services = _services(rng, territory, municipi, now)
    wallets = _plans_and_wallets(rng, territory, scale, year, now)
    with connection.cursor() as cursor:
        models = [Service, Service.municipi.through, Plan, PlanTier, PlanParticipant, Worker, Account, Transfer,
                  Entry, Wallet, ApiToken]
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
    return {"services": services, "wallets": wallets}


def _services(rng, territory, municipi, now) -> int:
    providers = list(
        Organisation.objects.filter(territory=territory, network_role="provider")
        .order_by("pk").values_list("pk", "name", "latitude", "longitude")
    )
    first = next_id(Service)
    first_link = next_id(Service.municipi.through)
    rows, links = [], []
    for provider_id, provider_name, lat, lon in providers:
        for _ in range(SERVICES_PER_PROVIDER):
            n = first + len(rows)
            category, words, (low, high), minutes = rng.choice(CATALOGUE)
            title = f"{rng.choice(words)} {rng.choice(PLACES)}"
            description = (f"{title}: servizio di {provider_name} per chi lavora nelle imprese della rete. "
                           f"Prenotazione con il voucher, orari flessibili.")
            delivery = rng.choice(["at_provider", "at_provider", "at_home", "online"])
            located = lat is not None and delivery == "at_provider"
            search_text = fold(" ".join([title, description, provider_name]))
            rows.append((
                n, territory.pk, provider_id, title, f"bench-servizio-{n}", description, category.value,
                rng.randrange(low, high, 50), delivery, f"Via {rng.choice(PLACES)} {rng.randint(1, 120)}",
                lat if located else None, lon if located else None, minutes or None, True, search_text, now, now,
            ))
            if delivery != "online":
                for municipio in rng.sample(municipi, rng.randint(1, 3)):
                    links.append((first_link + len(links), n, municipio.pk))
    insert(Service, ["id", "territory_id", "provider_id", "title", "slug", "description", "category", "price_cents",
                     "delivery", "address", "latitude", "longitude", "minutes_saved", "is_published", "search_text",
                     "created_at", "updated_at"], rows)
    insert(Service.municipi.through, ["id", "service_id", "municipio_id"], links)
    return len(rows)


def _plans_and_wallets(rng, territory, scale, year, now) -> int:
    """Worker n (0-based, in user order) of the first `wallets_at(scale)` workers gets wallet n."""
    roles = list(
        Role.objects.filter(territory=territory, kind=Role.Kind.WORKER).order_by("user_id")
        .values_list("user_id", "organisation_id", "user__first_name", "user__last_name", "user__email")
        [: wallets_at(scale)]
    )
    firms = sorted({org for _u, org, *_rest in roles})
    ids = {model: next_id(model) for model in (Plan, PlanTier, PlanParticipant, Worker, Account, Transfer, Entry,
                                               Wallet, ApiToken)}
    plans, tiers, participants, accounts, transfers, entries = [], [], [], [], [], []
    plan_of, tier_of, pool_of = {}, {}, {}
    enrolled_per_firm: dict[int, int] = {}
    for _u, org, *_rest in roles:
        enrolled_per_firm[org] = enrolled_per_firm.get(org, 0) + 1

    def account(kind, *, organisation=None, plan=None, balance=0, negative=False) -> int:
        pk = ids[Account] + len(accounts)
        accounts.append((pk, territory.pk, kind, organisation, plan, negative, balance))
        return pk

    def transfer(kind, key, legs) -> None:
        pk = ids[Transfer] + len(transfers)
        transfers.append((pk, territory.pk, kind, key, None, "bench", now))
        for account_id, amount in legs:
            entries.append((ids[Entry] + len(entries), pk, account_id, amount))

    for org in firms:
        plan_id = ids[Plan] + len(plans)
        plans.append((plan_id, territory.pk, org, f"Piano welfare {year}", year, date(year, 1, 1), date(year, 12, 31),
                      [c.value for c in Category], "carry_over", "active", now))
        tier_id = ids[PlanTier] + len(tiers)
        tiers.append((tier_id, plan_id, "", WALLET_CENTS))
        participants.append((ids[PlanParticipant] + len(participants), plan_id, org, now))
        funded = enrolled_per_firm[org] * WALLET_CENTS
        funding = account("firm_funding", organisation=org, balance=-funded, negative=True)
        pool = account("plan_pool", organisation=org, plan=plan_id, balance=0)
        transfer("funding", f"funding:{plan_id}:{org}:bench", [(funding, -funded), (pool, funded)])
        plan_of[org], tier_of[org], pool_of[org] = plan_id, tier_id, pool
    workers, wallets, tokens = [], [], []
    for n, (user_id, org, first, last, email) in enumerate(roles):
        worker_id = ids[Worker] + n
        workers.append((worker_id, org, user_id, tax_code(n), first, last, email, "", False, None, now, now))
        wallet_account = account("wallet", plan=plan_of[org], balance=WALLET_CENTS)
        wallet_id = ids[Wallet] + n
        wallets.append((wallet_id, plan_of[org], worker_id, tier_of[org], wallet_account, now))
        transfer("allocation", f"allocation:{wallet_id}", [(pool_of[org], -WALLET_CENTS), (wallet_account, WALLET_CENTS)])
        key = token_for(n)
        tokens.append((ids[ApiToken] + n, user_id, "bench", hashlib.sha256(key.encode()).hexdigest(), key[-6:], now))
    insert(Plan, ["id", "territory_id", "organisation_id", "name", "year", "valid_from", "valid_until", "categories",
                  "unused_credit", "status", "created_at"],
           [(*row[:7], _json(row[7]), *row[8:]) for row in plans])
    insert(PlanTier, ["id", "plan_id", "worker_category", "amount_cents"], tiers)
    insert(PlanParticipant, ["id", "plan_id", "organisation_id", "joined_at"], participants)
    insert(Worker, ["id", "organisation_id", "user_id", "tax_code", "first_name", "last_name", "email", "category",
                    "has_dependent_children", "children_declared_at", "invited_at", "created_at"], workers)
    insert(Account, ["id", "territory_id", "kind", "organisation_id", "plan_id", "allows_negative", "balance_cents"],
           accounts)
    insert(Transfer, ["id", "territory_id", "kind", "key", "actor_id", "memo", "created_at"], transfers)
    insert(Entry, ["id", "transfer_id", "account_id", "amount_cents"], entries)
    insert(Wallet, ["id", "plan_id", "worker_id", "tier_id", "account_id", "created_at"], wallets)
    insert(ApiToken, ["id", "user_id", "name", "key_hash", "hint", "created_at"], tokens)
    return len(wallets)


def _json(value) -> str:
    import json

    return json.dumps(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(SCALES), default="M")
    parser.add_argument("--if-missing", action="store_true", help="do nothing when the catalogue is already there")
    args = parser.parse_args()
    if args.if_missing and Service.objects.filter(slug__startswith="bench-servizio-").exists():
        settle_tables()  # after the last run's writes, so that every run starts from the same state
        return
    started = time.monotonic()
    with transaction.atomic():
        counts = generate(args.scale)
    settle_tables()
    summary = " ".join(f"{k}={v}" for k, v in counts.items())
    print(f"generated welfare scale={args.scale} {summary} in {time.monotonic() - started:.1f}s", flush=True)


def settle_tables() -> None:
    """What the database would have done to freshly loaded tables by the time real traffic came.

    Statistics, or the planner guesses at an empty table's row counts. On PostgreSQL a VACUUM too:
    until one runs, no page is marked all-visible, so a count cannot be answered from an index alone
    and reads every row (2-3 ms instead of 0.5 for the directory's 3,561 organisations). Autovacuum
    would do it within minutes in production, but a bench starts seconds after the load, and some
    servers (this project's CI machines among them) run with autovacuum off.
    """
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")


if __name__ == "__main__":
    main()
