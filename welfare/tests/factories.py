"""Welfare test data: a provider with services, a firm's funded plan, enrolled workers."""

from datetime import date

from django.utils import timezone
from stdnum.it import codicefiscale

from conftest import make_organisation
from welfare import services
from welfare.demo import ensure_fringe_thresholds
from welfare.models import Category, Service, Worker

_counter = iter(range(1, 1_000_000))


def tax_code(n: int) -> str:
    """A valid personal codice fiscale, different for each n < 1000."""
    base = f"RSSMRA85T10A{n % 1000:03d}"
    return base + codicefiscale.calc_check_digit(base)


def ensure_thresholds() -> None:
    # Seeded by migration 0002; a transactional test's flush may have removed them.
    ensure_fringe_thresholds()


def make_provider(territory, name="Cooperativa Fornitrice", **fields):
    fields.setdefault("kind", "social_coop")
    fields.setdefault("network_role", "provider")
    return make_organisation(territory, name, **fields)


def make_service(provider, *, category=Category.WELLBEING, price_cents=5000, **fields) -> Service:
    n = next(_counter)
    fields.setdefault("title", f"Servizio {n}")
    fields.setdefault("description", "Un servizio della rete.")
    fields.setdefault("delivery", "at_provider")
    return Service.objects.create(
        territory=provider.territory, provider=provider, slug=f"servizio-{n}", category=category,
        price_cents=price_cents, **fields,
    )


def make_plan(organisation, *, amount_cents=50000, fund_cents=None, categories=None, tiers=None, actor=None, **fields):
    today = timezone.localdate()
    plan = services.create_plan(
        territory=organisation.territory, organisation=organisation, name=fields.pop("name", f"Piano {today.year}"),
        year=today.year, valid_from=fields.pop("valid_from", date(today.year, 1, 1)),
        valid_until=fields.pop("valid_until", date(today.year, 12, 31)),
        categories=categories or [c.value for c in Category], unused_credit="carry_over",
        tiers=tiers or {"": amount_cents}, actor=actor,
    )
    if fund_cents != 0:
        services.fund_plan(plan=plan, organisation=organisation, amount_cents=fund_cents or amount_cents * 10,
                           key=f"initial-{plan.pk}", actor=actor)
    return plan


def enrol(organisation, n: int, *, category: str = "", user=None, actor=None) -> Worker:
    worker = services.enrol_worker(
        organisation=organisation,
        data=services.WorkerData(tax_code=tax_code(n), first_name=f"Nome{n}", last_name="Prova",
                                 email=user.email if user else f"lavoratore{n}@example.org", category=category),
        actor=actor,
    )
    return worker
