"""Every change of welfare state: one function, one durable transaction, its audit row, mail on commit.

Spending by one worker is serialised by locking the worker's row first (`_lock_worker`): the
idempotency check, the fringe-benefit headroom and the wallet balance are then read by one request
at a time, and the ledger's conditional UPDATE and CHECK constraint stand behind them.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import date

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy

from accounts.invitations import set_password_url
from accounts.models import Role, User
from core import audit
from core.fiscal import normalise_codice_fiscale
from core.forms import typed_code
from core.mail import recipient_language, send_templated_mail
from core.money import euros
from network.models import Organisation

from . import ledger
from .models import (
    Account,
    Category,
    FringeThreshold,
    Order,
    Payout,
    Plan,
    PlanParticipant,
    PlanTier,
    ProviderProposal,
    RefundRequest,
    Service,
    Transfer,
    Wallet,
    Worker,
)
from .reports import settlement_statement


class WelfareError(Exception):
    """A request the current state refuses; nothing was changed. `code` is the API's."""

    status = 409
    code = "conflict"

    def __init__(self, message: str, **details):
        super().__init__(message)
        self.message = message
        self.details = details


class InsufficientCredit(WelfareError):
    code = "insufficient_credit"


class ThresholdExceeded(WelfareError):
    code = "threshold_exceeded"


class NotEligible(WelfareError):
    code = "not_eligible"


class AlreadyRedeemed(WelfareError):
    code = "already_redeemed"


class VoucherCancelled(WelfareError):
    code = "cancelled"


class AlreadyDecided(WelfareError):
    code = "already_decided"


class PoolTooSmall(WelfareError):
    code = "insufficient_funds"


class SlugTaken(WelfareError):
    code = "already_exists"


class AlreadyPaid(WelfareError):
    code = "already_paid"


class KeyReused(WelfareError):
    status = 422
    code = "idempotency_key_reused"


class VoucherNotFound(WelfareError):
    status = 404
    code = "not_found"


# --- plans -------------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def create_plan(
    *, territory, organisation: Organisation | None, name: str, year: int, valid_from: date, valid_until: date,
    categories: list[str], unused_credit: str, tiers: dict[str, int], actor,
) -> Plan:
    """A plan with its tiers (worker category → cents; "" for every worker). Pooled when `organisation` is None."""
    plan = Plan.objects.create(
        territory=territory, organisation=organisation, name=name, year=year, valid_from=valid_from,
        valid_until=valid_until, categories=sorted(set(categories)), unused_credit=unused_credit,
    )
    PlanTier.objects.bulk_create(
        PlanTier(plan=plan, worker_category=category.strip(), amount_cents=amount) for category, amount in tiers.items()
    )
    if organisation is not None:
        PlanParticipant.objects.create(plan=plan, organisation=organisation)
    audit.record(actor=actor, action="welfare.plan.created", obj=plan, territory=territory,
                 changes={"tiers": tiers, "categories": plan.categories, "pooled": plan.is_pooled})
    return plan


@transaction.atomic(durable=True)
def delete_plan(*, plan: Plan, organisation: Organisation, actor) -> None:
    """Remove a plan made by mistake. Once money has moved, the ledger keeps it: refused."""
    # The participant's row first, as fund_plan takes it: a payment and a deletion queue on it, and
    # whichever comes second sees what the first did (a pool account, or no plan).
    PlanParticipant.objects.select_for_update().filter(plan_id=plan.pk, organisation=organisation).exists()
    plan = Plan.objects.select_for_update().filter(pk=plan.pk, organisation=organisation).first()
    if plan is None:
        raise NotEligible(_("Questo piano non c'è più: forse l'ha appena eliminato qualcun altro."))
    if not plan.can_be_deleted():
        raise NotEligible(_("Il piano ha già versamenti o borsellini: non si può eliminare, il registro li conserva."))
    audit.record(actor=actor, action="welfare.plan.deleted", obj=plan, territory=plan.territory,
                 changes={"name": plan.name, "tiers": {t.worker_category: t.amount_cents for t in plan.tiers.all()}})
    plan.delete()  # its tiers and its participant row go with it


@transaction.atomic(durable=True)
def join_pooled_plan(*, plan: Plan, organisation: Organisation, actor) -> PlanParticipant:
    if not plan.is_pooled or organisation.territory_id != plan.territory_id:
        raise NotEligible(_("Questo piano non è aperto alla tua organizzazione."))
    if plan.status != Plan.Status.ACTIVE or plan.valid_until < timezone.localdate():
        raise NotEligible(_("Questo piano è chiuso."))
    participant, created = PlanParticipant.objects.get_or_create(plan=plan, organisation=organisation)
    if created:
        audit.record(actor=actor, action="welfare.plan.joined", obj=participant, territory=plan.territory)
    return participant


@transaction.atomic(durable=True)
def fund_plan(*, plan: Plan, organisation: Organisation, amount_cents: int, key: str, actor) -> Transfer:
    """The organisation pays `amount_cents` into its share of the plan's pool. A retried key moves nothing."""
    if amount_cents <= 0:
        raise ValueError("amount_cents must be positive")
    # The participant's row serialises the organisation's payments into this plan (a double click).
    if not PlanParticipant.objects.select_for_update().filter(plan=plan, organisation=organisation).exists():
        raise NotEligible(_("L'organizzazione non partecipa a questo piano."))
    if plan.status != Plan.Status.ACTIVE or plan.valid_until < timezone.localdate():
        raise NotEligible(_("Questo piano è chiuso: non si può più versare."))
    transfer_key = f"funding:{plan.pk}:{organisation.pk}:{key}"
    existing = Transfer.objects.filter(key=transfer_key).prefetch_related("entries").first()
    if existing is not None:
        if max(e.amount_cents for e in existing.entries.all()) != amount_cents:
            raise KeyReused(_("Questa chiave è già stata usata per un altro versamento."))
        return existing
    pool = ledger.pool_account(plan, organisation)
    transfer = ledger.post_transfer(
        territory=plan.territory, kind=Transfer.Kind.FUNDING, key=transfer_key, actor=actor,
        legs=[(ledger.funding_account(organisation), -amount_cents), (pool, amount_cents)], memo=str(plan),
    )
    audit.record(actor=actor, action="welfare.plan.funded", obj=plan, territory=plan.territory,
                 changes={"organisation": organisation.pk, "amount_cents": amount_cents})
    return transfer


# --- workers and wallets -----------------------------------------------------------------------------


@dataclass
class WorkerData:
    tax_code: str
    first_name: str
    last_name: str
    email: str
    category: str = ""


def plans_open_to(organisation: Organisation, *, on: date | None = None):
    """The active plans whose validity has not ended, in which the organisation takes part."""
    on = on or timezone.localdate()
    return Plan.objects.filter(
        participants__organisation=organisation, status=Plan.Status.ACTIVE, valid_until__gte=on
    ).prefetch_related("tiers")


def _open_wallet(*, plan: Plan, worker: Worker, actor) -> Wallet | None:
    """The worker's wallet in `plan`, credited with their tier's amount from the organisation's share."""
    tier = plan.tier_for(worker.category)
    if tier is None:
        return None  # The plan is for other categories of workers.
    pool = ledger.pool_account(plan, worker.organisation)
    # The pool's row before the wallet's: open_wallets holds the pool while it opens one wallet after
    # another, and a category change that inserted this wallet first and then waited for the pool
    # deadlocked with it on PostgreSQL. Looked up under the lock: the other may have opened it.
    pool.balance_cents = (
        Account.objects.select_for_update(no_key=True).values_list("balance_cents", flat=True).get(pk=pool.pk)
    )
    existing = Wallet.objects.filter(plan=plan, worker=worker).select_related("account").first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            account = Account.objects.create(territory=plan.territory, kind=Account.Kind.WALLET, plan=plan)
            wallet = Wallet.objects.create(plan=plan, worker=worker, tier=tier, account=account)
    except IntegrityError:
        # wallet_one_per_plan: another request (a payment opening wallets, a category change) opened
        # it a moment ago, credited by that request. Theirs is the wallet.
        return Wallet.objects.select_related("account").get(plan=plan, worker=worker)
    try:
        ledger.post_transfer(
            territory=plan.territory, kind=Transfer.Kind.ALLOCATION, key=f"allocation:{wallet.pk}", actor=actor,
            legs=[(pool, -tier.amount_cents), (account, tier.amount_cents)], memo=str(worker),
        )
    except ledger.InsufficientFunds:
        raise PoolTooSmall(
            _("Il fondo del piano «%(plan)s» non basta: versa almeno %(amount)s prima di iscrivere altri lavoratori.")
            % {"plan": plan.name, "amount": euros(tier.amount_cents - pool.balance_cents)},
            plan=plan.pk,
        ) from None
    return wallet


def _open_wallet_on_enrolment(*, plan: Plan, worker: Worker, actor) -> Wallet | None:
    if plan.valid_from <= timezone.localdate():
        return _open_wallet(plan=plan, worker=worker, actor=actor)
    # Next year's plan is typically made in December and paid into in January: a short pool must not
    # stop this year's hires from being enrolled. They get its credit when the firm pays in
    # (open_wallets), as workers enrolled before the plan existed do.
    try:
        with transaction.atomic():
            return _open_wallet(plan=plan, worker=worker, actor=actor)
    except PoolTooSmall:
        return None


def categories_left_out(plan: Plan, organisation: Organisation) -> dict[str, int]:
    """The organisation's worker categories (→ people) that `plan` has no amount for."""
    counts = dict(Worker.objects.filter(organisation=organisation).values_list("category").annotate(n=Count("pk")))
    return plan.categories_without_tier(counts)


def plans_leaving_out(organisation: Organisation, workers: list[Worker]) -> list[tuple[Plan, dict[str, int]]]:
    """The open plans with no amount for the category of some of these workers, with those categories.

    Usually a typo in the category, or a category the plan forgot: the admin must hear of it, since
    such a worker is enrolled and invited but gets nothing from that plan.
    """
    counts = Counter(worker.category for worker in workers)
    return [(plan, missing) for plan in plans_open_to(organisation) if (missing := plan.categories_without_tier(counts))]


@transaction.atomic(durable=True)
def change_worker_category(*, worker: Worker, category: str, actor) -> list[Wallet]:
    """Put a worker in another category. Returns the wallets this opened.

    Credit already assigned stays as it is: it was the plan's amount for the category the worker was
    in, it may be partly spent, and a plan's allocation is never taken back. Plans that had no amount
    for the old category and have one for the new credit the worker now, as at enrolment.
    """
    _lock_worker(worker)
    worker = Worker.objects.select_related("organisation__territory").get(pk=worker.pk)
    category, old = category.strip(), worker.category
    if category == old:
        return []
    worker.category = category
    worker.save(update_fields=["category"])
    credited = set(worker.wallets.values_list("plan_id", flat=True))
    wallets = []
    for plan in plans_open_to(worker.organisation):
        if plan.pk in credited:
            continue
        try:
            with transaction.atomic():
                wallet = _open_wallet(plan=plan, worker=worker, actor=actor)
        except PoolTooSmall:
            continue  # credited when the firm pays in (open_wallets); plans_awaiting_funding says so
        if wallet is not None:
            wallets.append(wallet)
    audit.record(actor=actor, action="welfare.worker.category_changed", obj=worker,
                 territory=worker.organisation.territory,
                 changes={"category": [old, category], "wallets": [w.pk for w in wallets]})
    if wallets:
        _tell_new_credit(worker, wallets)
    return wallets


def plans_awaiting_funding(organisation: Organisation, workers: list[Worker]) -> list[Plan]:
    """The open plans in which some of these workers have a tier but no wallet yet (the pool was short)."""
    awaiting = []
    for plan in plans_open_to(organisation):
        credited = set(Wallet.objects.filter(plan=plan, worker__in=workers).values_list("worker_id", flat=True))
        if any(w.pk not in credited and plan.tier_for(w.category) is not None for w in workers):
            awaiting.append(plan)
    return awaiting


@transaction.atomic(durable=True)
def open_wallets(*, plan: Plan, organisation: Organisation, actor) -> int:
    """Credit the organisation's workers who have no wallet in `plan` yet (enrolled before it existed,
    or before the firm joined it). All of them or, when the pool is short, none (PoolTooSmall)."""
    if plan.status != Plan.Status.ACTIVE or plan.valid_until < timezone.localdate():
        raise NotEligible(_("Questo piano è chiuso."))
    if not plan.participants.filter(organisation=organisation).exists():
        raise NotEligible(_("L'organizzazione non partecipa a questo piano."))
    missing = list(Worker.objects.filter(organisation=organisation).exclude(wallets__plan=plan)
                   .select_related("organisation", "user"))
    if not missing:
        return 0
    # The pool's row first, as _open_wallet takes it: what it holds now is what the workers draw on.
    balance = (Account.objects.select_for_update(no_key=True).values_list("balance_cents", flat=True)
               .get(pk=ledger.pool_account(plan, organisation).pk))
    try:
        opened = [w for worker in missing if (w := _open_wallet(plan=plan, worker=worker, actor=actor))]
    except PoolTooSmall:
        # _open_wallet knows only the worker whose turn it was, after the money set aside for the ones
        # before (rolled back with them): the firm needs to hear what all those waiting still lack.
        raise _pool_short_of(plan, missing, balance) from None
    if opened:
        audit.record(actor=actor, action="welfare.plan.wallets_opened", obj=plan, territory=plan.territory,
                     changes={"organisation": organisation.pk, "wallets": len(opened)})
    for wallet in opened:
        _tell_new_credit(wallet.worker, [wallet])
    return len(opened)


# What a pool lacks, said for everyone it must credit at once ("count" picks the plural).
_SHORT_FOR_WAITING = ngettext_lazy(
    "Il fondo del piano «%(plan)s» non basta ancora per %(count)s lavoratore in attesa di credito "
    "(servono %(needed)s, il fondo ne ha %(balance)s): versa almeno altri %(amount)s.",
    "Il fondo del piano «%(plan)s» non basta ancora per i %(count)s lavoratori in attesa di credito "
    "(servono %(needed)s, il fondo ne ha %(balance)s): versa almeno altri %(amount)s.", "count",
)
_SHORT_FOR_FILE = ngettext_lazy(
    "Il fondo del piano «%(plan)s» non basta per %(count)s lavoratore (servono %(needed)s, il fondo "
    "ne ha %(balance)s): versa almeno altri %(amount)s, poi importa di nuovo lo stesso file.",
    "Il fondo del piano «%(plan)s» non basta per i %(count)s lavoratori del file (servono %(needed)s, "
    "il fondo ne ha %(balance)s): versa almeno altri %(amount)s, poi importa di nuovo lo stesso file.", "count",
)


def _credit_for(plan: Plan, people) -> list[int]:
    """The amount `plan` credits each of `people` (workers or rows to enrol: anything with a category)."""
    return [tier.amount_cents for person in people if (tier := plan.tier_for(person.category))]


def _pool_short_of(plan: Plan, people, balance: int, message=_SHORT_FOR_WAITING) -> PoolTooSmall:
    amounts = _credit_for(plan, people)
    return PoolTooSmall(
        message % {"plan": plan.name, "count": len(amounts), "needed": euros(sum(amounts)), "balance": euros(balance),
                   "amount": euros(sum(amounts) - balance)},
        plan=plan.pk,
    )


def enrolment_shortfall(organisation: Organisation, rows: list[WorkerData]) -> PoolTooSmall | None:
    """Why enrolling all of `rows` at once would be refused, said for all of them: the first plan
    whose pool cannot credit them all today. None when every pool can. (_open_wallet, one worker at a
    time, could only say what the worker whose turn it was lacked.) Plans starting later are left out:
    they wait for the firm's payment without refusing anyone (_open_wallet_on_enrolment)."""
    today = timezone.localdate()
    for plan in plans_open_to(organisation):
        if plan.valid_from > today:
            continue
        balance = (Account.objects.filter(kind=Account.Kind.PLAN_POOL, plan=plan, organisation=organisation)
                   .values_list("balance_cents", flat=True).first() or 0)
        if sum(_credit_for(plan, rows)) > balance:
            return _pool_short_of(plan, rows, balance, message=_SHORT_FOR_FILE)
    return None


def _tell_new_credit(worker: Worker, wallets: list[Wallet]) -> None:
    """Mail the worker the credit opened for them after their enrolment (whose invitation lists the
    credit opened then): what they may spend, from when to when. Sent after commit."""
    send_templated_mail(
        to=worker.email, template="welfare/email/credit",
        context={"worker": worker, "organisation": worker.organisation, "wallets": wallets,
                 "wallet_url": settings.SITE_URL + reverse("welfare:my_welfare")},
        language=recipient_language(worker.user),
    )


def _enrol(*, organisation: Organisation, data: WorkerData, actor) -> Worker:
    tax_code = normalise_codice_fiscale(data.tax_code)
    worker = Worker.objects.create(
        organisation=organisation, tax_code=tax_code, first_name=data.first_name.strip(),
        last_name=data.last_name.strip(), email=data.email.strip().lower(), category=data.category.strip(),
        invited_at=timezone.now(),
    )
    user = User.objects.filter(email__iexact=worker.email).first()
    is_new_user = user is None
    if is_new_user:
        user = User.objects.create_user(email=worker.email, first_name=worker.first_name, last_name=worker.last_name)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    Role.objects.get_or_create(user=user, kind=Role.Kind.WORKER, territory=organisation.territory,
                               organisation=organisation)
    worker.user = user
    worker.save(update_fields=["user"])
    wallets = [w for plan in plans_open_to(organisation) if (w := _open_wallet_on_enrolment(plan=plan, worker=worker, actor=actor))]
    audit.record(actor=actor, action="welfare.worker.enrolled", obj=worker, territory=organisation.territory,
                 changes={"category": worker.category, "wallets": [w.pk for w in wallets]})
    password_url = set_password_url(user) if is_new_user else ""
    send_templated_mail(
        to=worker.email, template="welfare/email/invitation",
        context={"worker": worker, "organisation": organisation, "wallets": wallets, "is_new_user": is_new_user,
                 "set_password_url": password_url, "login_url": settings.SITE_URL + reverse("account_login"),
                 "wallet_url": settings.SITE_URL + reverse("welfare:my_welfare")},
        language=recipient_language(worker.user),
    )
    return worker


@transaction.atomic(durable=True)
def enrol_worker(*, organisation: Organisation, data: WorkerData, actor) -> Worker:
    """Enrol one worker: their account, their wallets in the organisation's open plans, an invitation."""
    return _enrol(organisation=organisation, data=data, actor=actor)


PROGRESS_EVERY = 25


def enrol_workers(*, organisation: Organisation, rows: list[WorkerData], actor, on_progress=None) -> list[Worker]:
    """Enrol validated rows together: all of them, or (a plan's pool too small) none. Runs inside the
    caller's transaction (welfare.imports, in the background worker); `on_progress(n)` hears every
    PROGRESS_EVERY rows how many are done."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("enrol_workers() belongs inside the caller's transaction.atomic().")
    workers = []
    for row in rows:
        workers.append(_enrol(organisation=organisation, data=row, actor=actor))
        if on_progress is not None and len(workers) % PROGRESS_EVERY == 0:
            on_progress(len(workers))
    return workers



@transaction.atomic(durable=True)
def declare_children(*, worker: Worker, has_dependent_children: bool, actor) -> Worker:
    """The worker's own declaration (art. 51 c. 3: the higher threshold needs it), kept with its date."""
    worker = _lock_worker(worker)
    worker.has_dependent_children = has_dependent_children
    worker.children_declared_at = timezone.now()
    worker.save(update_fields=["has_dependent_children", "children_declared_at"])
    audit.record(actor=actor, action="welfare.worker.children_declared", obj=worker,
                 territory=worker.organisation.territory, changes={"has_dependent_children": has_dependent_children})
    return worker


def close_expired_plan(*, plan: Plan, today: date | None = None, actor=None) -> int:
    """After a plan's validity, move what it still holds; returns how many wallets were emptied.

    Credit is never paid in cash (art. 51 c. 2: welfare is in kind). A wallet's credit, with
    CARRY_OVER, moves to the worker's wallet in the organisation's next plan if the worker has one
    still open; otherwise, and with RETURN_TO_FIRM, back to the organisation's funding account. The
    share of the pool no worker received goes back to each participating organisation too.
    Safe to run again: what is at zero moves nothing, and a refund rejected later is swept next time.
    """
    today = today or timezone.localdate()
    if plan.valid_until >= today:
        raise ValueError("The plan is still valid.")
    emptied = 0
    for wallet_id in Wallet.objects.filter(plan=plan, account__balance_cents__gt=0).values_list("pk", flat=True):
        emptied += _sweep_wallet(wallet_id=wallet_id, today=today, actor=actor)
    _return_pools_and_close(plan=plan, emptied=emptied, actor=actor)
    return emptied


@transaction.atomic(durable=True)
def _return_pools_and_close(*, plan: Plan, emptied: int, actor) -> None:
    plan = Plan.objects.select_for_update().get(pk=plan.pk)
    for pool in Account.objects.filter(plan=plan, kind=Account.Kind.PLAN_POOL, balance_cents__gt=0).select_related(
        "organisation"
    ):
        moved = Transfer.objects.filter(entries__account=pool).count()
        ledger.post_transfer(
            territory=plan.territory, kind=Transfer.Kind.CREDIT_RETURNED, key=f"pool-returned:{pool.pk}:{moved}",
            actor=actor, legs=[(pool, -pool.balance_cents), (ledger.funding_account(pool.organisation), pool.balance_cents)],
            memo=str(plan),
        )
    if plan.status != Plan.Status.CLOSED:
        plan.status = Plan.Status.CLOSED
        plan.save(update_fields=["status"])
        audit.record(actor=actor, action="welfare.plan.closed", obj=plan, territory=plan.territory,
                     changes={"wallets_emptied": emptied})


@transaction.atomic(durable=True)
def _sweep_wallet(*, wallet_id: int, today: date, actor) -> int:
    wallet = Wallet.objects.select_related("plan", "worker__organisation", "account").get(pk=wallet_id)
    _lock_worker(wallet.worker)
    wallet.account.refresh_from_db()
    amount = wallet.account.balance_cents
    if amount <= 0:
        return 0
    plan, worker = wallet.plan, wallet.worker
    successor = None
    if plan.unused_credit == Plan.UnusedCredit.CARRY_OVER:
        successor = (
            Wallet.objects.filter(worker=worker, plan__status=Plan.Status.ACTIVE, plan__valid_until__gte=today,
                                  plan__valid_from__gt=plan.valid_from)
            .exclude(pk=wallet.pk).select_related("account").order_by("plan__valid_from", "pk").first()
        )
    key = f"credit-moved:{wallet.pk}:{Transfer.objects.filter(entries__account=wallet.account).count()}"
    if successor is not None:
        legs = [(wallet.account, -amount), (successor.account, amount)]
        memo = f"{plan} → {successor.plan}"
    else:
        # Back to the organisation that funded it: its funding account records what it has paid in, net.
        legs = [(wallet.account, -amount), (ledger.funding_account(worker.organisation), amount)]
        memo = str(plan)
    ledger.post_transfer(territory=plan.territory, kind=Transfer.Kind.CREDIT_RETURNED, key=key, actor=actor,
                         legs=legs, memo=memo)
    audit.record(actor=actor, action="welfare.wallet.swept", obj=wallet, territory=plan.territory,
                 changes={"amount_cents": amount, "to_wallet": successor.pk if successor else None})
    return 1


# --- the tax guard -----------------------------------------------------------------------------------


@dataclass
class FringeHeadroom:
    year: int
    threshold_cents: int
    spent_cents: int

    @property
    def headroom_cents(self) -> int:
        return max(0, self.threshold_cents - self.spent_cents)

    @property
    def is_crossed(self) -> bool:
        """Over the threshold (the children declaration withdrawn after spending): art. 51 c. 3 TUIR
        makes the year's whole amount taxable, not just what exceeds it."""
        return self.spent_cents > self.threshold_cents

    def crossed_by(self, amount_cents: int) -> bool:
        """Whether spending `amount_cents` more would take the worker past the threshold."""
        return self.spent_cents + amount_cents > self.threshold_cents


def fringe_headroom(worker: Worker, *, year: int) -> FringeHeadroom:
    rule = FringeThreshold.for_year(year)
    return FringeHeadroom(
        year=year,
        threshold_cents=rule.amount_for(has_dependent_children=worker.has_dependent_children),
        spent_cents=Order.objects.fringe_spent_cents(worker=worker, tax_year=year),
    )


# --- spending ----------------------------------------------------------------------------------------


def _lock_worker(worker: Worker) -> Worker:
    """Lock the worker's row: their purchases, refunds and sweeps go one at a time.

    Returns `worker` with its children declaration read again under the lock: the one field of the
    row a purchase decides on (the fringe threshold) that the worker can change meanwhile. Only the
    worker's row is locked (FOR NO KEY UPDATE, no join): every insert of the territory references
    its organisation and territory rows, which must stay free.
    """
    worker.has_dependent_children = (
        Worker.objects.select_for_update(no_key=True).values_list("has_dependent_children", flat=True).get(pk=worker.pk)
    )
    return worker


def usable_wallets(worker: Worker, category: str, today: date) -> list[Wallet]:
    wallets = Wallet.objects.filter(worker=worker).select_related("plan", "account").order_by("plan__valid_until", "pk")
    return [w for w in wallets if w.plan.is_valid_on(today) and w.plan.allows(category)]


def place_order(*, worker: Worker, service: Service, key: str, actor, wallet: Wallet | None = None) -> Order:
    """Buy `service` with the worker's credit; the answer carries the voucher. A retried key returns the first order.

    The key is looked for only when the purchase fails: a retry whose first try went through fails on
    the transfer's unique key (or on the credit the first try spent), and its first order is the answer.
    """
    transfer_key = f"order:{worker.pk}:{key}"
    try:
        return _place_order(worker=worker, service=service, transfer_key=transfer_key, actor=actor, wallet=wallet)
    except (WelfareError, IntegrityError):
        existing = Order.objects.filter(transfer__key=transfer_key).first()
        if existing is None:
            raise
    if existing.service_id != service.pk or (wallet is not None and existing.wallet_id != wallet.pk):
        raise KeyReused(_("Questa chiave è già stata usata per un altro acquisto: usane una nuova."))
    existing.is_replay = True
    return existing


@transaction.atomic(durable=True)
def _place_order(*, worker: Worker, service: Service, transfer_key: str, actor, wallet: Wallet | None) -> Order:
    # As _lock_worker does, and the worker's territory with it, in the same statement.
    worker.has_dependent_children, territory_id = (
        Worker.objects.select_for_update(of=("self",), no_key=True)
        .values_list("has_dependent_children", "organisation__territory_id").get(pk=worker.pk)
    )
    territory = service.territory
    # As the caller read it (with its provider): a price changed meanwhile applies to the next purchase.
    if not (service.is_published and service.provider.is_active and service.territory_id == territory_id):
        raise NotEligible(_("Questo servizio non è disponibile."))
    today = timezone.localdate()
    candidates = usable_wallets(worker, service.category, today)
    if wallet is not None:
        candidates = [w for w in candidates if w.pk == wallet.pk]
    if not candidates:
        raise NotEligible(
            _("Nessun tuo piano welfare valido oggi copre la categoria «%(category)s».")
            % {"category": service.get_category_display()}
        )
    price = service.price_cents
    if service.category == Category.FRINGE:
        room = fringe_headroom(worker, year=today.year)
        if room.crossed_by(price):
            # Art. 51 c. 3: past the threshold the whole year's fringe benefits become taxable.
            raise ThresholdExceeded(
                _("Questo acquisto supererebbe la soglia esente dei fringe benefit (%(threshold)s nel %(year)s): "
                  "ti restano %(headroom)s.")
                % {"threshold": euros(room.threshold_cents), "year": room.year, "headroom": euros(room.headroom_cents)},
                headroom_cents=room.headroom_cents, threshold_cents=room.threshold_cents,
            )
    chosen = next((w for w in candidates if w.account.balance_cents >= price), None)
    if chosen is None:
        available = max(w.account.balance_cents for w in candidates)
        raise InsufficientCredit(
            _("Credito insufficiente: il servizio costa %(price)s, hai %(available)s.")
            % {"price": euros(price), "available": euros(available)},
            available_cents=available,
        )
    try:
        transfer = ledger.post_transfer(
            territory=territory, kind=Transfer.Kind.ORDER, key=transfer_key, actor=actor,
            legs=[(chosen.account, -price), (ledger.payable_account(service.provider), price)], memo=service.title,
        )
    except ledger.InsufficientFunds:  # Not reachable while the worker lock holds; the ledger checks again.
        raise InsufficientCredit(_("Credito insufficiente."), available_cents=0) from None
    order = Order.objects.create(
        territory=territory, wallet=chosen, worker=worker, service=service, provider=service.provider,
        title=service.title, category=service.category, amount_cents=price, minutes_saved=service.minutes_saved,
        tax_year=today.year, transfer=transfer,
    )
    audit.record(actor=actor, action="welfare.order.placed", obj=order, territory=territory,
                 changes={"amount_cents": price, "service": service.pk, "wallet": chosen.pk})
    return order


@transaction.atomic(durable=True)
def cancel_order(*, order: Order, actor, reason: str = "") -> Order:
    """Cancel an unused voucher; the credit goes back to the wallet it came from. When the provider's
    staff cancel it (a service they cannot render), the worker is mailed their `reason`."""
    _lock_worker(order.worker)
    order = Order.objects.select_related("wallet__account", "provider", "territory", "worker").get(pk=order.pk)
    by_provider = actor is not None and actor.pk != order.worker.user_id
    reason = reason.strip() if by_provider else ""
    # Conditional: a till redeeming the voucher at this moment does not take the worker's lock.
    changed = Order.objects.filter(pk=order.pk, status=Order.Status.ISSUED).update(
        status=Order.Status.CANCELLED, cancelled_at=timezone.now(), cancelled_by=actor, cancel_reason=reason
    )
    if not changed:
        order.refresh_from_db()
        if order.status == Order.Status.CANCELLED:
            return order
        raise AlreadyRedeemed(_("Il voucher è già stato utilizzato: non si può annullare."))
    ledger.post_transfer(
        territory=order.territory, kind=Transfer.Kind.ORDER_CANCELLED, key=f"order-cancelled:{order.pk}", actor=actor,
        legs=[(ledger.payable_account(order.provider), -order.amount_cents), (order.wallet.account, order.amount_cents)],
        memo=order.title,
    )
    audit.record(actor=actor, action="welfare.order.cancelled", obj=order, territory=order.territory,
                 changes={"amount_cents": order.amount_cents, **({"reason": reason} if by_provider else {})})
    order.refresh_from_db()
    if by_provider:
        send_templated_mail(
            to=order.worker.email, template="welfare/email/order_cancelled",
            context={"order": order, "url": settings.SITE_URL + reverse("welfare:my_welfare")},
            language=recipient_language(order.worker.user),
        )
    return order


@transaction.atomic(durable=True)
def redeem_voucher(*, code: str, provider: Organisation, actor) -> Order:
    """Mark a voucher used, once: two staff scanning it at once get one success and one 'already used'."""
    order = Order.objects.filter(code=typed_code(code), provider=provider).first()
    if order is None:  # Also another provider's voucher: never say it exists.
        raise VoucherNotFound(_("Nessun voucher con questo codice per la tua organizzazione."))
    now = timezone.now()
    changed = Order.objects.filter(pk=order.pk, status=Order.Status.ISSUED).update(
        status=Order.Status.REDEEMED, redeemed_at=now, redeemed_by=actor
    )
    order.refresh_from_db()
    if not changed:
        if order.status == Order.Status.CANCELLED:
            raise VoucherCancelled(_("Questo voucher è stato annullato e il credito restituito."))
        raise AlreadyRedeemed(
            _("Voucher già utilizzato il %(when)s: %(title)s per %(name)s.")
            % {"when": date_format(timezone.localtime(order.redeemed_at), "SHORT_DATETIME_FORMAT"),
               "title": order.title, "name": order.worker},
            redeemed_at=order.redeemed_at.isoformat(),
        )
    audit.record(actor=actor, action="welfare.voucher.redeemed", obj=order, territory=order.territory)
    return order


# --- refunds -----------------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def request_refund(
    *, worker: Worker, wallet: Wallet, category: str, amount_cents: int, description: str, expense_date: date,
    receipt, key: str, actor,
) -> RefundRequest:
    """Hold the amount from the wallet while the organisation checks the receipt."""
    worker = _lock_worker(worker)
    transfer_key = f"refund:{worker.pk}:{key}"
    existing = RefundRequest.objects.filter(hold__key=transfer_key).first()
    if existing is not None:
        same = (existing.wallet_id, existing.category, existing.amount_cents, existing.description,
                existing.expense_date) == (wallet.pk, category, amount_cents, description, expense_date)
        if not same:
            raise KeyReused(_("Questa chiave è già stata usata per un'altra richiesta: usane una nuova."))
        existing.is_replay = True
        return existing
    if category not in Category.refundable():
        raise NotEligible(_("Questa categoria si usa solo acquistando servizi, non si rimborsa in denaro."))
    wallet = Wallet.objects.select_related("plan", "account").get(pk=wallet.pk, worker=worker)
    if not (wallet.plan.is_valid_on(timezone.localdate()) and wallet.plan.allows(category)):
        raise NotEligible(_("Il piano di questo borsellino non copre questa categoria oggi."))
    if not wallet.plan.valid_from <= expense_date <= timezone.localdate():
        raise NotEligible(
            _("La spesa deve essere del periodo di validità del piano (dal %(start)s).")
            % {"start": wallet.plan.valid_from.strftime("%d/%m/%Y")}
        )
    territory = worker.organisation.territory
    try:
        hold = ledger.post_transfer(
            territory=territory, kind=Transfer.Kind.REFUND_REQUESTED, key=transfer_key, actor=actor,
            legs=[(wallet.account, -amount_cents),
                  (ledger.network_account(territory, Account.Kind.REFUND_HOLD), amount_cents)],
            memo=description,
        )
    except ledger.InsufficientFunds:
        raise InsufficientCredit(
            _("Credito insufficiente: chiedi %(amount)s, hai %(available)s.")
            % {"amount": euros(amount_cents), "available": euros(wallet.account.balance_cents)},
            available_cents=wallet.account.balance_cents,
        ) from None
    refund = RefundRequest.objects.create(
        territory=territory, wallet=wallet, worker=worker, category=category, amount_cents=amount_cents,
        description=description, expense_date=expense_date, receipt=receipt, hold=hold,
    )
    audit.record(actor=actor, action="welfare.refund.requested", obj=refund, territory=territory,
                 changes={"amount_cents": amount_cents, "category": category})
    # The organisation's admins decide refunds: each hears of a new one, rather than finding it by chance.
    organisation = worker.organisation
    url = settings.SITE_URL + reverse("welfare:refund_decide", kwargs={
        "territory": territory.slug, "slug": organisation.slug, "pk": refund.pk})
    admins = User.objects.filter(roles__kind=Role.Kind.ORG_ADMIN, roles__organisation=organisation,
                                 is_active=True).distinct()
    for admin in admins:
        send_templated_mail(to=admin.email, template="welfare/email/refund_requested",
                            context={"refund": refund, "organisation": organisation, "url": url},
                            language=recipient_language(admin))
    return refund


@transaction.atomic(durable=True)
def decide_refund(*, refund: RefundRequest, approve: bool, reason: str, actor) -> RefundRequest:
    """Approve (paid with the payroll) or reject with a reason (the credit returns to the wallet)."""
    refund = RefundRequest.objects.select_for_update().get(pk=refund.pk)
    if refund.status != RefundRequest.Status.PENDING:
        raise AlreadyDecided(_("Questa richiesta è già stata decisa."))
    if not approve and not reason.strip():
        raise ValueError("A rejection needs a reason.")
    territory = refund.territory
    hold = ledger.network_account(territory, Account.Kind.REFUND_HOLD)
    wallet_account = Account.objects.get(wallet__pk=refund.wallet_id)
    if approve:
        kind, to = Transfer.Kind.REFUND_APPROVED, ledger.network_account(territory, Account.Kind.SETTLEMENT)
    else:
        kind, to = Transfer.Kind.REFUND_REJECTED, wallet_account
    ledger.post_transfer(territory=territory, kind=kind, key=f"refund-decided:{refund.pk}", actor=actor,
                         legs=[(hold, -refund.amount_cents), (to, refund.amount_cents)], memo=refund.description)
    refund.status = RefundRequest.Status.APPROVED if approve else RefundRequest.Status.REJECTED
    refund.reason = reason.strip()
    refund.decided_by = actor
    refund.decided_at = timezone.now()
    refund.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    audit.record(actor=actor, action=f"welfare.refund.{refund.status}", obj=refund, territory=territory,
                 changes={"reason": refund.reason})
    send_templated_mail(
        to=refund.worker.email, template="welfare/email/refund_decided",
        context={"refund": refund, "url": settings.SITE_URL + reverse("welfare:my_welfare")},
        language=recipient_language(refund.worker.user),
    )
    return refund


# --- providers ---------------------------------------------------------------------------------------


def is_provider(organisation: Organisation) -> bool:
    """Organisations that may list services: providers and the cooperatives of the welfare ATI."""
    return organisation.network_role in {"provider", "ati_member"} and organisation.is_active


@transaction.atomic(durable=True)
def save_service(*, service: Service, municipi=None, actor) -> Service:
    is_new = service.pk is None
    try:
        with transaction.atomic():
            service.save()
    except IntegrityError:
        raise SlugTaken(_("Esiste già un servizio con questo identificativo.")) from None
    if municipi is not None:
        service.municipi.set(municipi)
    audit.record(actor=actor, action="welfare.service.created" if is_new else "welfare.service.changed",
                 obj=service, territory=service.territory)
    return service


@transaction.atomic(durable=True)
def propose_provider(*, territory, data: dict, actor) -> ProviderProposal:
    proposal = ProviderProposal.objects.create(territory=territory, proposed_by=actor, **data)
    audit.record(actor=actor, action="welfare.provider.proposed", obj=proposal, territory=territory)
    return proposal


@transaction.atomic(durable=True)
def decide_provider_proposal(*, proposal: ProviderProposal, invite: bool, actor, message: str = "") -> ProviderProposal:
    """Invite the proposed provider to apply (the usual join request, role "provider"), or archive it.

    The person who proposed it hears of the decision, with the coordination's `message` if given: a
    worker who suggested the crèche they use should not have to guess whether anybody read it.
    """
    # Only the proposal's row is locked: PostgreSQL locks no row on the nullable side of an outer join.
    proposal = (ProviderProposal.objects.select_for_update(of=("self",)).select_related("territory", "proposed_by")
                .get(pk=proposal.pk))
    if proposal.status != ProviderProposal.Status.NEW:
        raise AlreadyDecided(_("Questa proposta è già stata valutata."))
    proposal.status = ProviderProposal.Status.INVITED if invite else ProviderProposal.Status.DECLINED
    proposal.message = message.strip()
    proposal.decided_by = actor
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "message", "decided_by", "decided_at"])
    audit.record(actor=actor, action=f"welfare.provider.{proposal.status}", obj=proposal, territory=proposal.territory,
                 changes={"message": proposal.message} if proposal.message else None)
    if proposal.proposer_hears_of_it:
        proposer = proposal.proposed_by
        send_templated_mail(
            to=proposer.email, template="welfare/email/proposal_decided",
            context={"proposal": proposal, "territory": proposal.territory,
                     "url": settings.SITE_URL + reverse("welfare:my_welfare") + "#proposte"},
            language=recipient_language(proposer),
        )
    if invite:
        send_templated_mail(
            to=proposal.email, template="welfare/email/provider_invitation",
            context={"proposal": proposal, "territory": proposal.territory,
                     "join_url": settings.SITE_URL + reverse("network:join", kwargs={"territory": proposal.territory.slug})},
            # A local business nobody here has written to yet: the territory's own language.
            language=settings.LANGUAGE_CODE,
        )
    return proposal


@transaction.atomic(durable=True)
def pay_provider(*, provider: Organisation, year: int, month: int, actor) -> Payout:
    """Record that the network paid a provider for the vouchers it redeemed in a month (a past month)."""
    today = timezone.localdate()
    if (year, month) >= (today.year, today.month):
        raise NotEligible(_("Si paga un mese solo quando è concluso."))
    # The provider's row (NO KEY: purchases from it go on) serialises two coordinators paying one month;
    # the unique constraint backs it.
    Organisation.objects.select_for_update(no_key=True).filter(pk=provider.pk).first()
    if Payout.objects.filter(provider=provider, year=year, month=month).exists():
        raise AlreadyPaid(_("Questo mese è già stato pagato."))
    statement = settlement_statement(provider, year=year, month=month)
    if not statement.gross_cents:
        raise NotEligible(_("Nessun voucher riscattato in questo mese: non c'è nulla da pagare."))
    territory = provider.territory
    legs = [(ledger.payable_account(provider), -statement.gross_cents),
            (ledger.network_account(territory, Account.Kind.SETTLEMENT), statement.net_cents)]
    if statement.fee_cents:
        legs.append((ledger.network_account(territory, Account.Kind.FEE_INCOME), statement.fee_cents))
    transfer = ledger.post_transfer(territory=territory, kind=Transfer.Kind.PROVIDER_PAID,
                                    key=f"payout:{provider.pk}:{year}-{month:02d}", actor=actor, legs=legs,
                                    memo=f"{provider} {month:02d}/{year}")
    payout = Payout.objects.create(provider=provider, year=year, month=month, gross_cents=statement.gross_cents,
                                   fee_cents=statement.fee_cents, transfer=transfer, paid_by=actor)
    audit.record(actor=actor, action="welfare.provider.paid", obj=payout, territory=territory,
                 changes={"gross_cents": payout.gross_cents, "fee_cents": payout.fee_cents})
    return payout
