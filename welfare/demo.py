"""The demo's welfare: example services of the ATI cooperatives, a firm's plan, a pooled network plan,
and the demo worker enrolled with credit. Running it again changes nothing.

The services are examples written for the demo (their descriptions say so), not the cooperatives'
real offer.
"""

import importlib
from datetime import date

from django.db import transaction
from django.utils import timezone
from stdnum.it import codicefiscale

from accounts.models import User
from network.models import Organisation

from . import services
from .models import Category, FringeThreshold, Plan, Service, Worker

EXAMPLE = " (Servizio di esempio della demo.)"

# (provider slug, service slug, title, category, price in cents, delivery, Municipi, minutes saved, lat, lon, address)
SERVICES = [
    ("equa", "doposcuola-equa", "Doposcuola e aiuto compiti", Category.EDUCATION, 18000, "at_provider", [2, 3], 90,
     "45.497500", "9.221000", "Via Padova 36, Milano"),
    ("equa", "centro-estivo-equa", "Centro estivo per bambini 6-11 anni (una settimana)", Category.EDUCATION, 14000,
     "at_provider", [2], 120, "45.496000", "9.218000", "Via Padova 20, Milano"),
    ("abcitta", "laboratori-creativi-abcitta", "Laboratori creativi per ragazzi", Category.WELLBEING, 6000,
     "at_provider", [1, 4], None, "45.452100", "9.214000", "Via Tertulliano 41, Milano"),
    ("lo-scrigno", "assistenza-anziani-domicilio", "Assistenza domiciliare a un familiare anziano (10 ore)",
     Category.CARE, 22000, "at_home", [4, 5, 6], 240, None, None, ""),
    ("eureka", "baby-sitting-domicilio", "Baby sitting a domicilio (5 ore)", Category.EDUCATION, 7500, "at_home",
     [1, 7, 8], 150, None, None, ""),
    ("piano-c", "orientamento-carriera-online", "Percorso di orientamento al rientro dalla maternità", Category.WELLBEING,
     9000, "online", [], 60, None, None, ""),
    ("equa", "spesa-solidale-equa", "Buono spesa al mercato solidale", Category.FRINGE, 5000, "at_provider", [2], 30,
     "45.497800", "9.221500", "Via Padova 36, Milano"),
]

DEMO_WORKER_EMAIL = "lavoratore@officine-lambrate.example.org"


def demo_tax_code() -> str:
    base = "FMGPLA85T10F205"  # Paolo Fumagalli, born in Milan on 10 Dec 1985 (invented)
    return base + codicefiscale.calc_check_digit(base)


def ensure_fringe_thresholds() -> None:
    """The thresholds migration 0002 seeds, again: a test database flushed between tests loses them."""
    seeded = importlib.import_module("welfare.migrations.0002_search_ledger_guards_thresholds").THRESHOLDS
    for year, amount, with_children, basis in seeded:
        FringeThreshold.objects.get_or_create(
            from_year=year,
            defaults={"amount_cents": amount, "amount_with_children_cents": with_children, "legal_basis": basis},
        )


def load(territory) -> None:
    ensure_fringe_thresholds()
    with transaction.atomic():
        for provider_slug, slug, title, category, price, delivery, municipi, minutes, lat, lon, address in SERVICES:
            provider = Organisation.objects.filter(territory=territory, slug=provider_slug).first()
            if provider is None or Service.objects.filter(territory=territory, slug=slug).exists():
                continue
            service = Service.objects.create(
                territory=territory, provider=provider, slug=slug, title=title, category=category, price_cents=price,
                delivery=delivery, minutes_saved=minutes, latitude=lat, longitude=lon, address=address,
                description=f"{title}, offerto da {provider.name} agli iscritti al welfare della rete.{EXAMPLE}",
            )
            service.municipi.set(territory.municipi.filter(number__in=municipi))
    year = timezone.localdate().year
    firm = Organisation.objects.filter(territory=territory, slug="officine-lambrate").first()
    small = Organisation.objects.filter(territory=territory, slug="studio-grafico-navigli").first()
    admin = User.objects.filter(email="admin@officine-lambrate.example.org").first()
    if firm and not Plan.objects.filter(organisation=firm, year=year).exists():
        plan = services.create_plan(
            territory=territory, organisation=firm, name=f"Welfare Officine Lambrate {year}", year=year,
            valid_from=date(year, 1, 1), valid_until=date(year, 12, 31),
            categories=[c.value for c in Category], unused_credit=Plan.UnusedCredit.CARRY_OVER,
            tiers={"": 60000}, actor=admin,
        )
        services.fund_plan(plan=plan, organisation=firm, amount_cents=3_000_000, key="demo-funding", actor=admin)
    if small and not Plan.objects.filter(territory=territory, organisation__isnull=True, year=year).exists():
        pooled = services.create_plan(
            territory=territory, organisation=None, name=f"Welfare di rete per le piccole imprese {year}", year=year,
            valid_from=date(year, 1, 1), valid_until=date(year, 12, 31),
            categories=[Category.EDUCATION, Category.CARE, Category.TRANSPORT, Category.WELLBEING],
            unused_credit=Plan.UnusedCredit.RETURN_TO_FIRM, tiers={"": 30000}, actor=None,
        )
        services.join_pooled_plan(plan=pooled, organisation=small, actor=None)
        services.fund_plan(plan=pooled, organisation=small, amount_cents=300_000, key="demo-funding", actor=None)
    if firm and not Worker.objects.filter(organisation=firm, email=DEMO_WORKER_EMAIL).exists():
        services.enrol_worker(
            organisation=firm, actor=admin,
            data=services.WorkerData(tax_code=demo_tax_code(), first_name="Paolo", last_name="Fumagalli",
                                     email=DEMO_WORKER_EMAIL, category=""),
        )
