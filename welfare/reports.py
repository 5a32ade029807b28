"""What organisations and providers may read about welfare money: aggregates, payroll, statements.

Privacy (DESIGN.md): an employer sees totals per category over groups of at least MIN_GROUP workers,
never one worker's purchases; the payroll export gives per worker only taxable and non-taxable
amounts, which the employer needs by law (art. 51 TUIR) to fill the payslip.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import segno
from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractMonth, ExtractYear
from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.spreadsheets import csv_bytes
from network.models import Organisation

from .models import Account, Category, FringeThreshold, Order, Payout, Plan, RefundRequest, Terms, Wallet, Worker

MIN_GROUP = 5


def voucher_qr_svg(order: Order) -> str:
    # A full QR code, not segno's default Micro QR for short texts: phone and jsQR scanners read only these.
    return segno.make_qr(order.code, error="m").svg_inline(scale=6, border=4, title=order.code)


@dataclass
class PlanSummary:
    plan: Plan
    pool_cents: int
    wallets: int
    tiers: list
    uncovered: dict  # worker category → enrolled workers for whom the plan has no amount
    can_delete: bool = False  # made by this organisation and never funded: a mistake it may remove


def plans_of(organisation) -> list[PlanSummary]:
    """The plans the organisation takes part in, with its share of the pool and how many wallets it opened."""
    plans = Plan.objects.filter(participants__organisation=organisation).prefetch_related("tiers").order_by("-valid_until", "pk")
    counts = dict(Worker.objects.filter(organisation=organisation).values_list("category").annotate(n=Count("pk")))
    summaries = []
    for plan in plans:
        summaries.append(PlanSummary(
            plan=plan,
            # Read only: the account appears with the first payment (a page view writes nothing).
            pool_cents=Account.objects.filter(kind=Account.Kind.PLAN_POOL, plan=plan, organisation=organisation)
            .values_list("balance_cents", flat=True).first() or 0,
            wallets=Wallet.objects.filter(plan=plan, worker__organisation=organisation).count(),
            tiers=list(plan.tiers.all()),
            uncovered=plan.categories_without_tier(counts),
            can_delete=plan.organisation_id == organisation.pk and plan.can_be_deleted(),
        ))
    return summaries


@dataclass
class CategoryLine:
    category: Category
    workers: int | None  # None: suppressed
    amount_cents: int | None


@dataclass
class SpendingReport:
    year: int
    lines: list[CategoryLine] = field(default_factory=list)
    suppressed: int = 0

    @property
    def shown_total_cents(self) -> int:
        return sum(line.amount_cents or 0 for line in self.lines)


def spending_by_category(organisation, *, year: int) -> SpendingReport:
    """Purchases and approved refunds (by the year they were paid) per category, groups under 5 hidden.

    When exactly one group is hidden, the smallest shown one is hidden too: the payroll export's
    totals would otherwise let the employer subtract its way to the hidden group.
    """
    groups: dict[str, dict] = {}
    orders = (
        Order.objects.standing().filter(worker__organisation=organisation, tax_year=year)
        .values("category").annotate(total=Sum("amount_cents"))
    )
    refunds = (
        RefundRequest.objects.filter(worker__organisation=organisation, status=RefundRequest.Status.APPROVED,
                                     decided_at__year=year)
        .values("category").annotate(total=Sum("amount_cents"))
    )
    for row in [*orders, *refunds]:
        groups.setdefault(row["category"], {"total": 0, "workers": set()})["total"] += row["total"]
    order_people = Order.objects.standing().filter(worker__organisation=organisation, tax_year=year).values_list("category", "worker_id").distinct()
    refund_people = RefundRequest.objects.filter(
        worker__organisation=organisation, status=RefundRequest.Status.APPROVED, decided_at__year=year
    ).values_list("category", "worker_id").distinct()
    for category, worker_id in [*order_people, *refund_people]:
        groups[category]["workers"].add(worker_id)
    lines = {c: CategoryLine(Category(c), len(g["workers"]), g["total"]) for c, g in groups.items()}
    hidden = [c for c, line in lines.items() if line.workers < MIN_GROUP]
    if len(hidden) == 1:
        shown = sorted((line.amount_cents, c) for c, line in lines.items() if c not in hidden)
        if shown:
            hidden.append(shown[0][1])
    for c in hidden:
        lines[c].workers = lines[c].amount_cents = None
    ordered = [lines[c] for c in Category.values if c in lines]
    return SpendingReport(year=year, lines=ordered, suppressed=len(hidden))


@dataclass
class PayrollLine:
    worker: Worker
    exempt_cents: int
    taxable_cents: int


def payroll(organisation, *, year: int) -> list[PayrollLine]:
    """Per worker, for the tax year: the exempt welfare, and the taxable amount.

    Art. 51 c. 3: fringe benefits over the threshold are taxable in full, not only above it.
    """
    threshold = FringeThreshold.for_year(year)
    spent = {
        row["worker_id"]: row for row in Order.objects.standing().filter(worker__organisation=organisation, tax_year=year)
        .values("worker_id").annotate(
            fringe=Sum("amount_cents", filter=Q(category=Category.FRINGE)),
            welfare=Sum("amount_cents", filter=~Q(category=Category.FRINGE)),
        )
    }
    refunded = dict(
        RefundRequest.objects.filter(worker__organisation=organisation, status=RefundRequest.Status.APPROVED,
                                     decided_at__year=year)
        .values("worker_id").annotate(total=Sum("amount_cents")).values_list("worker_id", "total")
    )
    lines = []
    for worker in Worker.objects.filter(organisation=organisation).filter(Q(pk__in=spent) | Q(pk__in=refunded)):
        row = spent.get(worker.pk, {})
        fringe, welfare = row.get("fringe") or 0, (row.get("welfare") or 0) + refunded.get(worker.pk, 0)
        limit = threshold.amount_for(has_dependent_children=worker.has_dependent_children)
        taxable = fringe if fringe > limit else 0
        lines.append(PayrollLine(worker=worker, exempt_cents=welfare + (fringe - taxable), taxable_cents=taxable))
    return lines


def payroll_csv(organisation, *, year: int) -> HttpResponse:
    # The same headers whatever the page's language: a payroll program maps its import by them, and
    # the file is for the Italian payroll (its amounts are written the Italian way too).
    with translation.override("it"):
        rows = [[str(_("Codice fiscale")), str(_("Cognome")), str(_("Nome")), str(_("Importo esente (euro)")),
                 str(_("Importo imponibile (euro)"))]]
    for line in payroll(organisation, year=year):
        rows.append([line.worker.tax_code, line.worker.last_name, line.worker.first_name,
                     _decimal(line.exempt_cents), _decimal(line.taxable_cents)])
    response = HttpResponse(csv_bytes(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="welfare-cedolino-{organisation.slug}-{year}.csv"'
    return response


def _decimal(cents: int) -> str:
    # Comma decimals, no thousands separator: what an Italian spreadsheet reads as a number.
    return f"{cents // 100},{cents % 100:02d}"


def statement_months(provider) -> list[date]:
    rows = (
        Order.objects.filter(provider=provider, status=Order.Status.REDEEMED)
        .annotate(y=ExtractYear("redeemed_at"), m=ExtractMonth("redeemed_at"))
        .values("y", "m").annotate(n=Count("pk")).order_by("-y", "-m")
    )
    return [date(row["y"], row["m"], 1) for row in rows[:24]]


@dataclass
class Statement:
    provider: object
    year: int
    month: int
    orders: list
    gross_cents: int
    fee_basis_points: int
    payout: object = None  # the network's payment for this month, once made

    @property
    def fee_percent(self) -> Decimal:
        return Decimal(self.fee_basis_points) / 100

    @property
    def fee_cents(self) -> int:
        # Rounded down to the cent in the provider's favour.
        return self.gross_cents * self.fee_basis_points // 10000

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.fee_cents

    @property
    def period(self) -> date:
        return date(self.year, self.month, 1)


def settlement_statement(provider, *, year: int, month: int) -> Statement:
    """The vouchers the provider redeemed in a month (local time), and what the network owes for them."""
    tz = timezone.get_current_timezone()
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=tz)
    orders = list(
        Order.objects.filter(provider=provider, status=Order.Status.REDEEMED, redeemed_at__gte=start, redeemed_at__lt=end)
        .order_by("redeemed_at", "pk")
    )
    terms = Terms.objects.filter(territory=provider.territory).first()
    return Statement(
        provider=provider, year=year, month=month, orders=orders,
        gross_cents=sum(o.amount_cents for o in orders), fee_basis_points=terms.provider_fee_basis_points if terms else 0,
        payout=Payout.objects.filter(provider=provider, year=year, month=month).first(),
    )


def statement_csv(statement: Statement) -> HttpResponse:
    # In Italian whatever the page's language, as the payroll file: it goes into an Italian provider's
    # accounts, and its amounts are written the Italian way (English headers over "180,00" misled).
    with translation.override("it"):
        rows = [[str(_("Codice voucher")), str(_("Utilizzato il")), str(_("Servizio")), str(_("Categoria")),
                 str(_("Importo (euro)"))]]
        for order in statement.orders:
            rows.append([order.code, timezone.localtime(order.redeemed_at).strftime("%d/%m/%Y %H:%M"), order.title,
                         str(order.get_category_display()), _decimal(order.amount_cents)])
        rows.append([])
        rows.append([str(_("Totale")), "", "", "", _decimal(statement.gross_cents)])
        # The rate in the row's label: a column of its own under "Categoria" read as a category.
        rate = f"{statement.fee_basis_points / 100:.2f}%".replace(".", ",")
        rows.append([_("Commissione della rete (%(rate)s)") % {"rate": rate}, "", "", "",
                     _decimal(statement.fee_cents)])
        rows.append([str(_("Netto dovuto")), "", "", "", _decimal(statement.net_cents)])
    response = HttpResponse(csv_bytes(rows), content_type="text/csv; charset=utf-8")
    name = f"rendiconto-{statement.provider.slug}-{statement.year}-{statement.month:02d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response



@dataclass
class UnpaidMonth:
    provider: object
    year: int
    month: int
    gross_cents: int

    @property
    def period(self) -> date:
        return date(self.year, self.month, 1)


def unpaid_months(territory, *, limit: int = 100) -> list[UnpaidMonth]:
    """Past months in which a provider redeemed vouchers the network has not paid for yet, oldest first."""
    this_month = timezone.localdate().replace(day=1)
    start = datetime(this_month.year, this_month.month, 1, tzinfo=timezone.get_current_timezone())
    rows = (
        Order.objects.filter(territory=territory, status=Order.Status.REDEEMED, redeemed_at__lt=start)
        .annotate(y=ExtractYear("redeemed_at"), m=ExtractMonth("redeemed_at"))
        .values("provider", "y", "m").annotate(gross=Sum("amount_cents")).order_by("y", "m", "provider")
    )
    paid = set(Payout.objects.filter(provider__territory=territory).values_list("provider", "year", "month"))
    months = [row for row in rows if (row["provider"], row["y"], row["m"]) not in paid][:limit]
    providers = Organisation.objects.in_bulk({row["provider"] for row in months})
    return [UnpaidMonth(providers[row["provider"]], row["y"], row["m"], row["gross"]) for row in months]
