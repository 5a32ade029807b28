"""Networked welfare: the providers' catalogue, plans, wallets, the ledger, orders and refunds.

Money is integer cents everywhere. Balances live in `Account.balance_cents`, a cache of the sum of
the account's `Entry` rows: the entries are the truth, append-only, and `manage.py verify_ledger`
proves the cache equals them. Every movement of money is one `Transfer` whose entries sum to zero.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Municipio, Territory
from core.search import SearchTextMixin
from core.storage import private_storage
from network.models import Organisation

from .managers import OrderQuerySet, ServiceQuerySet


class Category(models.TextChoices):
    """Welfare service categories, by the letter of TUIR art. 51 that exempts them."""

    EDUCATION = "f_bis", _("Istruzione e cura dei figli (art. 51 c. 2 lett. f-bis)")
    CARE = "f_ter", _("Assistenza a familiari anziani o non autosufficienti (art. 51 c. 2 lett. f-ter)")
    WELLBEING = "f", _("Ricreazione, cultura, sport e salute (art. 51 c. 2 lett. f)")
    TRANSPORT = "d_bis", _("Abbonamenti al trasporto pubblico (art. 51 c. 2 lett. d-bis)")
    FRINGE = "fringe", _("Beni e servizi, fringe benefit (art. 51 c. 3)")

    @classmethod
    def refundable(cls) -> set[str]:
        # f-bis, f-ter and d-bis may be reimbursed against a receipt; letter f only in kind
        # (art. 51 c. 2 lett. f: "opere e servizi" offered by the employer, never cash).
        return {cls.EDUCATION, cls.CARE, cls.TRANSPORT}

    @property
    def short(self) -> str:
        return {"f_bis": "f-bis", "f_ter": "f-ter", "f": "f", "d_bis": "d-bis", "fringe": "c. 3"}[self.value]


class Delivery(models.TextChoices):
    AT_HOME = "at_home", _("A domicilio")
    AT_PROVIDER = "at_provider", _("Presso il fornitore")
    ONLINE = "online", _("Online")


class Service(SearchTextMixin, models.Model):
    """A service a provider of the network offers to workers, paid with welfare credit."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="services")
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="services")
    title = models.CharField(_("titolo"), max_length=200)
    slug = models.SlugField(_("identificativo"), max_length=120)
    description = models.TextField(_("descrizione"))
    category = models.CharField(_("categoria"), max_length=10, choices=Category.choices)
    price_cents = models.PositiveIntegerField(_("prezzo (centesimi)"))
    delivery = models.CharField(_("modalità di erogazione"), max_length=12, choices=Delivery.choices)
    municipi = models.ManyToManyField(Municipio, blank=True, related_name="services", verbose_name=_("municipi serviti"))
    address = models.CharField(_("indirizzo"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitudine"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitudine"), max_digits=9, decimal_places=6, null=True, blank=True)
    minutes_saved = models.PositiveSmallIntegerField(
        _("minuti risparmiati"), null=True, blank=True,
        help_text=_("Tempo che il servizio restituisce a chi lavora, ogni volta che lo usa."),
    )
    is_published = models.BooleanField(_("pubblicato"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("servizio")
        verbose_name_plural = _("servizi")
        constraints = [
            models.UniqueConstraint(fields=["territory", "slug"], name="service_unique_slug"),
            models.CheckConstraint(condition=models.Q(price_cents__gt=0), name="service_price_positive"),
        ]
        indexes = [
            models.Index(fields=["territory", "is_published", "category"]),
            models.Index(fields=["territory", "is_published", "title"]),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("welfare:service", kwargs={"territory": self.territory.slug, "slug": self.slug})

    def build_search_text(self) -> str:
        provider = self.provider.name if self.provider_id else ""
        parts = [self.title, self.description, provider, self.address]
        return " ".join(p for p in parts if p).lower()

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class ProviderProposal(models.Model):
    """A worker's suggestion of a local provider they already use; the coordinator may invite it."""

    class Status(models.TextChoices):
        NEW = "new", _("Da valutare")
        INVITED = "invited", _("Invitato")
        DECLINED = "declined", _("Non invitato")

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="provider_proposals")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    name = models.CharField(_("nome del fornitore"), max_length=200)
    email = models.EmailField(_("email del fornitore"))
    website = models.URLField(_("sito web"), blank=True)
    city = models.CharField(_("comune"), max_length=100, blank=True)
    category = models.CharField(_("categoria"), max_length=10, choices=Category.choices)
    note = models.TextField(_("perché lo proponi"), max_length=2000, blank=True)
    status = models.CharField(_("stato"), max_length=10, choices=Status.choices, default=Status.NEW)
    # What the coordination tells the person who proposed it (why not, or what happens next).
    message = models.TextField(_("messaggio a chi l'ha proposto"), max_length=1000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("proposta di fornitore")
        verbose_name_plural = _("proposte di fornitori")

    def __str__(self) -> str:
        return self.name

    @property
    def proposer_hears_of_it(self) -> bool:
        """Whether the decision is mailed to whoever proposed it (their account still exists and is active)."""
        return self.proposed_by is not None and self.proposed_by.is_active


class FringeThreshold(models.Model):
    """The fringe-benefit exemption threshold (TUIR art. 51 c. 3), from a tax year until the next row.

    Year-versioned data, not a constant: the law changes it (€258.23 ordinarily; €1,000, or €2,000
    for workers with dependent children, in 2025-2027 by L. 207/2024). Crossing it makes the whole
    year's amount taxable, not only the excess.
    """

    from_year = models.PositiveSmallIntegerField(_("dall'anno d'imposta"), unique=True)
    amount_cents = models.PositiveIntegerField(_("soglia (centesimi)"))
    amount_with_children_cents = models.PositiveIntegerField(_("soglia con figli a carico (centesimi)"))
    legal_basis = models.CharField(_("riferimento normativo"), max_length=200)

    class Meta:
        ordering = ["from_year"]
        verbose_name = _("soglia fringe benefit")
        verbose_name_plural = _("soglie fringe benefit")

    def __str__(self) -> str:
        return f"{self.from_year}: {self.amount_cents / 100:.2f} / {self.amount_with_children_cents / 100:.2f} €"

    @classmethod
    def for_year(cls, year: int) -> "FringeThreshold":
        rule = cls.objects.filter(from_year__lte=year).order_by("-from_year").first()
        if rule is None:
            raise cls.DoesNotExist(f"No fringe-benefit threshold covers {year}.")
        return rule

    def amount_for(self, *, has_dependent_children: bool) -> int:
        return self.amount_with_children_cents if has_dependent_children else self.amount_cents


class Terms(models.Model):
    """A territory's welfare terms: the fee the network keeps from providers (0% unless decided)."""

    territory = models.OneToOneField(Territory, on_delete=models.CASCADE, related_name="welfare_terms")
    provider_fee_basis_points = models.PositiveSmallIntegerField(
        _("commissione ai fornitori (punti base)"), default=0, help_text=_("100 punti base = 1%.")
    )

    class Meta:
        verbose_name = _("condizioni del welfare")
        verbose_name_plural = _("condizioni del welfare")
        constraints = [
            models.CheckConstraint(condition=models.Q(provider_fee_basis_points__lte=10000), name="terms_fee_at_most_all")
        ]

    def __str__(self) -> str:
        return f"{self.territory}: {self.provider_fee_basis_points / 100:.2f}%"


class Worker(models.Model):
    """A person employed by a member organisation and enrolled in its welfare."""

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="welfare_workers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="welfare_workers"
    )
    tax_code = models.CharField(_("codice fiscale"), max_length=16)
    first_name = models.CharField(_("nome"), max_length=100)
    last_name = models.CharField(_("cognome"), max_length=100)
    email = models.EmailField(_("email"))
    # A category of workers (art. 51 c. 2 lett. f: the plan is for all workers or categories of them).
    category = models.CharField(_("categoria di lavoratori"), max_length=60, blank=True)
    has_dependent_children = models.BooleanField(_("ha figli fiscalmente a carico"), default=False)
    children_declared_at = models.DateTimeField(null=True, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        verbose_name = _("lavoratore")
        verbose_name_plural = _("lavoratori")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "tax_code"], name="worker_unique_tax_code"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class WorkerImport(models.Model):
    """A CSV of workers enrolled in the background worker, all rows or none, with its report.

    Enrolling a worker opens their wallets through the ledger, some thirty statements a row: a large
    firm's file of thousands of rows takes longer than an app server gives one request. The checked
    rows wait here until the worker has enrolled them; then they are cleared, and the report (what
    went in, the rows refused) stays for KEEP_FOR, until `prune_worker_imports` deletes it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("In attesa")
        DONE = "done", _("Completata")
        REFUSED = "refused", _("Non importata")

    # The worker polls every second; 5,000 rows with wallets take about 80 s on our machines.
    NOT_STARTED_AFTER = timedelta(minutes=5)
    INTERRUPTED_AFTER = timedelta(minutes=30)
    # How long a report stays (prune_worker_imports): its refused rows name people who were not enrolled.
    KEEP_FOR = timedelta(days=7)

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="welfare_imports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # The uploader's language: the report's messages written by the worker (a pool too small) speak it.
    language = models.CharField(_("lingua"), max_length=8, default="it")
    status = models.CharField(_("stato"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    # The checked rows still to enrol (WorkerData as dicts); emptied once done.
    rows = models.JSONField(_("righe da iscrivere"), default=list)
    # The rows refused when the file was read, for the report: line, who, errors.
    bad_rows = models.JSONField(_("righe scartate"), default=list)
    total = models.PositiveIntegerField(_("righe valide"), default=0)
    # len(enrolled), kept apart: the desk lists imports without reading thousands of ids each.
    imported = models.PositiveIntegerField(_("lavoratori iscritti"), default=0)
    enrolled = models.JSONField(_("lavoratori iscritti (id)"), default=list)  # for the report's notes on plans
    error = models.TextField(_("errore"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When a worker took it up (committed before its long transaction): without it the page could not
    # tell a file waiting for a worker that is not running from one being enrolled.
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("importazione di lavoratori")
        verbose_name_plural = _("importazioni di lavoratori")

    def __str__(self) -> str:
        return f"{self.organisation} {self.created_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("welfare:worker_import_status", kwargs={
            "territory": self.organisation.territory.slug, "slug": self.organisation.slug, "pk": self.pk})

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REFUSED)

    def looks_stuck(self, now=None) -> str:
        """"" while all is well; "not_started" when no worker has taken it up after NOT_STARTED_AFTER;
        "interrupted" when one took it up but it has not finished after INTERRUPTED_AFTER (the worker
        stopped: its transaction rolled back, nobody was enrolled)."""
        if self.is_finished:
            return ""
        now = now or timezone.now()
        if self.started_at is None:
            return "not_started" if now - self.created_at > self.NOT_STARTED_AFTER else ""
        return "interrupted" if now - self.started_at > self.INTERRUPTED_AFTER else ""


class Plan(models.Model):
    """A yearly welfare plan: of one organisation, or pooled by the network for several small firms."""

    class UnusedCredit(models.TextChoices):
        # What close_expired_plan() does with a wallet's credit once the plan's validity is over.
        CARRY_OVER = "carry_over", _("Passa al piano successivo dell'impresa, se il lavoratore ne ha uno; altrimenti torna all'impresa")
        RETURN_TO_FIRM = "return", _("Torna all'impresa alla fine della validità")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Bozza")
        ACTIVE = "active", _("Attivo")
        CLOSED = "closed", _("Chiuso")

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="welfare_plans")
    # None for a pooled network plan, which the coordinator runs and several firms join.
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="welfare_plans"
    )
    name = models.CharField(_("nome"), max_length=200)
    year = models.PositiveSmallIntegerField(_("anno"))
    valid_from = models.DateField(_("valido dal"))
    valid_until = models.DateField(_("valido fino al"))
    categories = models.JSONField(_("categorie di servizi ammesse"), default=list)
    unused_credit = models.CharField(
        _("credito non usato"), max_length=12, choices=UnusedCredit.choices, default=UnusedCredit.CARRY_OVER
    )
    status = models.CharField(_("stato"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-year", "name", "pk"]
        verbose_name = _("piano welfare")
        verbose_name_plural = _("piani welfare")
        constraints = [
            models.CheckConstraint(condition=models.Q(valid_until__gte=models.F("valid_from")), name="plan_dates_ordered"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_pooled(self) -> bool:
        return self.organisation_id is None

    def is_valid_on(self, day) -> bool:
        return self.status == self.Status.ACTIVE and self.valid_from <= day <= self.valid_until

    def allows(self, category: str) -> bool:
        return category in self.categories

    @property
    def category_labels(self) -> list[str]:
        return [str(Category(value).label) for value in self.categories if value in Category.values]

    def can_be_deleted(self) -> bool:
        """A firm's own plan that never moved money (no pool, no wallet): a mistake, removable without
        a trace in the ledger."""
        return not self.is_pooled and not self.accounts.exists()

    def tier_for(self, worker_category: str) -> "PlanTier | None":
        """The amount for that category of workers (case and spaces aside), else the one for everyone."""
        tiers = {tier.worker_category.casefold(): tier for tier in self.tiers.all()}
        return tiers.get(worker_category.strip().casefold()) or tiers.get("")

    def categories_without_tier(self, counts: dict[str, int]) -> dict[str, int]:
        """Of `counts` (worker category → people), the categories this plan has no amount for."""
        return {category: n for category, n in counts.items() if self.tier_for(category) is None}


class PlanTier(models.Model):
    """What each worker of one category receives from a plan. Never a named person's amount."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tiers")
    # Blank: every worker of the organisation.
    worker_category = models.CharField(_("categoria di lavoratori"), max_length=60, blank=True)
    amount_cents = models.PositiveIntegerField(_("importo per lavoratore (centesimi)"))

    class Meta:
        ordering = ["worker_category"]
        verbose_name = _("quota del piano")
        verbose_name_plural = _("quote del piano")
        constraints = [
            models.UniqueConstraint(fields=["plan", "worker_category"], name="plan_tier_unique_category"),
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="plan_tier_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.worker_category or str(_("Tutti i lavoratori"))


class PlanParticipant(models.Model):
    """An organisation funding a plan and drawing on it for its workers (its own plan, or a pooled one)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="participants")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="welfare_participations")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("impresa partecipante")
        verbose_name_plural = _("imprese partecipanti")
        constraints = [
            models.UniqueConstraint(fields=["plan", "organisation"], name="plan_participant_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} — {self.plan}"


class Account(models.Model):
    """A ledger account. `balance_cents` caches the sum of its entries."""

    class Kind(models.TextChoices):
        FIRM_FUNDING = "firm_funding", _("Finanziamento dell'impresa")
        PLAN_POOL = "plan_pool", _("Fondo del piano")
        WALLET = "wallet", _("Borsellino del lavoratore")
        REFUND_HOLD = "refund_hold", _("Rimborsi in valutazione")
        PROVIDER_PAYABLE = "provider_payable", _("Dovuto al fornitore")
        SETTLEMENT = "settlement", _("Pagamenti eseguiti")
        FEE_INCOME = "fee_income", _("Commissioni della rete")

    # Accounts that stand for money outside the platform (what firms paid in, what was paid out)
    # run negative by design; every account that holds money inside it never does.
    OUTSIDE = {Kind.FIRM_FUNDING, Kind.SETTLEMENT}

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="accounts")
    allows_negative = models.BooleanField(default=False)
    balance_cents = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("conto")
        verbose_name_plural = _("conti")
        constraints = [
            # The last line of defence: no service may leave a wallet or a pool below zero.
            models.CheckConstraint(
                condition=models.Q(allows_negative=True) | models.Q(balance_cents__gte=0),
                name="account_never_negative",
            ),
            models.UniqueConstraint(
                fields=["kind", "organisation"], condition=models.Q(kind="firm_funding"), name="account_one_funding_per_org"
            ),
            models.UniqueConstraint(
                fields=["kind", "organisation"], condition=models.Q(kind="provider_payable"),
                name="account_one_payable_per_provider",
            ),
            models.UniqueConstraint(
                fields=["kind", "plan", "organisation"], condition=models.Q(kind="plan_pool"),
                name="account_one_pool_per_participant",
            ),
            models.UniqueConstraint(
                fields=["kind", "territory"], condition=models.Q(kind__in=["settlement", "fee_income", "refund_hold"]),
                name="account_one_network_account_per_kind",
            ),
        ]

    def __str__(self) -> str:
        owner = self.organisation or self.plan or self.territory
        return f"{self.get_kind_display()} — {owner}"


class Transfer(models.Model):
    """One movement of money: entries that sum to zero, written together, never changed."""

    class Kind(models.TextChoices):
        FUNDING = "funding", _("Versamento dell'impresa")
        ALLOCATION = "allocation", _("Assegnazione del credito")
        ORDER = "order", _("Acquisto di un servizio")
        ORDER_CANCELLED = "order_cancelled", _("Annullamento di un acquisto")
        REFUND_REQUESTED = "refund_requested", _("Richiesta di rimborso")
        REFUND_APPROVED = "refund_approved", _("Rimborso approvato")
        REFUND_REJECTED = "refund_rejected", _("Rimborso respinto")
        PROVIDER_PAID = "provider_paid", _("Pagamento al fornitore")
        CREDIT_RETURNED = "credit_returned", _("Credito restituito all'impresa")

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="transfers")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What makes a retry harmless: the same key never moves money twice (see ledger.post_transfer).
    # Room for the scope ("order:<worker>:") and a client's key of up to 255 characters.
    key = models.CharField(max_length=320, unique=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    memo = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("movimento")
        verbose_name_plural = _("movimenti")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Entry(models.Model):
    """One side of a transfer. Append-only: a trigger refuses UPDATE and DELETE (migration 0002)."""

    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount_cents = models.BigIntegerField()

    class Meta:
        verbose_name = _("scrittura")
        verbose_name_plural = _("scritture")
        constraints = [models.CheckConstraint(condition=~models.Q(amount_cents=0), name="entry_not_zero")]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount_cents}"


class Wallet(models.Model):
    """A worker's credit in one plan. Its money is its ledger account's balance."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="wallets")
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="wallets")
    tier = models.ForeignKey(PlanTier, on_delete=models.PROTECT, related_name="wallets")
    account = models.OneToOneField(Account, on_delete=models.PROTECT, related_name="wallet")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-plan__year", "pk"]
        verbose_name = _("borsellino")
        verbose_name_plural = _("borsellini")
        constraints = [models.UniqueConstraint(fields=["plan", "worker"], name="wallet_one_per_plan")]

    def __str__(self) -> str:
        return f"{self.worker} — {self.plan}"

    @property
    def balance_cents(self) -> int:
        return self.account.balance_cents


def new_voucher_code() -> str:
    # 10 characters without look-alikes (0/O, 1/I/L): read aloud or typed at a till; 31^10 ≈ 8 × 10^14.
    alphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    return "".join(secrets.choice(alphabet) for _ in range(10))


class Order(models.Model):
    """A worker's purchase of a service with welfare credit; its voucher is redeemed by the provider."""

    class Status(models.TextChoices):
        ISSUED = "issued", _("Da utilizzare")
        REDEEMED = "redeemed", _("Utilizzato")
        CANCELLED = "cancelled", _("Annullato")

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="welfare_orders")
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="orders")
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="orders")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="orders")
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="welfare_orders")
    # Copied from the service at purchase: the price and the category the tax rules applied to.
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=10, choices=Category.choices)
    amount_cents = models.PositiveIntegerField()
    # The service's "tempo ritrovato" when bought: the minutes it gives back once used (DESIGN.md).
    minutes_saved = models.PositiveSmallIntegerField(null=True, blank=True)
    tax_year = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ISSUED)
    code = models.CharField(max_length=12, unique=True, default=new_voucher_code)
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="order")
    created_at = models.DateTimeField(default=timezone.now)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Written by the provider's staff when they cancel a voucher they cannot honour; the worker reads it.
    cancel_reason = models.CharField(_("motivo dell'annullamento"), max_length=300, blank=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("ordine")
        verbose_name_plural = _("ordini")
        indexes = [
            models.Index(fields=["provider", "status", "redeemed_at"]),
            models.Index(fields=["worker", "tax_year", "category"]),
        ]

    def __str__(self) -> str:
        # Also what the audit log shows the coordinator: never what a person bought, nor a live code.
        return f"{_('Ordine')} #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("welfare:voucher", kwargs={"code": self.code})


class Payout(models.Model):
    """The network paying a provider what its vouchers redeemed in one month earned, less the fee."""

    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="welfare_payouts")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    gross_cents = models.PositiveBigIntegerField()
    fee_cents = models.PositiveBigIntegerField()
    transfer = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="payout")
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-year", "-month", "pk"]
        verbose_name = _("pagamento al fornitore")
        verbose_name_plural = _("pagamenti ai fornitori")
        constraints = [
            # One payment per provider and month: paying twice is refused by the database too.
            models.UniqueConstraint(fields=["provider", "year", "month"], name="payout_one_per_month"),
            models.CheckConstraint(condition=models.Q(month__gte=1, month__lte=12), name="payout_month_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.month:02d}/{self.year}"

    @property
    def net_cents(self) -> int:
        return self.gross_cents - self.fee_cents


def receipt_path(instance: "RefundRequest", filename: str) -> str:
    # Random names: a receipt's address must not be guessable from its worker or its date.
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"welfare/receipts/{secrets.token_urlsafe(18)}.{extension}"


class RefundRequest(models.Model):
    """A worker's request to be reimbursed an eligible expense (f-bis, f-ter, d-bis) against a receipt."""

    class Status(models.TextChoices):
        PENDING = "pending", _("In valutazione")
        APPROVED = "approved", _("Approvato")
        REJECTED = "rejected", _("Respinto")

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="refund_requests")
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="refund_requests")
    worker = models.ForeignKey(Worker, on_delete=models.PROTECT, related_name="refund_requests")
    category = models.CharField(_("categoria"), max_length=10, choices=Category.choices)
    amount_cents = models.PositiveIntegerField(_("importo (centesimi)"))
    description = models.CharField(_("descrizione della spesa"), max_length=300)
    expense_date = models.DateField(_("data della spesa"))
    receipt = models.FileField(_("ricevuta"), upload_to=receipt_path, storage=private_storage)
    status = models.CharField(_("stato"), max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(_("motivazione"), blank=True)
    hold = models.OneToOneField(Transfer, on_delete=models.PROTECT, related_name="refund_request")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("richiesta di rimborso")
        verbose_name_plural = _("richieste di rimborso")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_cents__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=models.Q(category__in=["f_bis", "f_ter", "d_bis"]), name="refund_category_refundable"),
        ]

    def __str__(self) -> str:
        # Also what the audit log shows: a description may tell someone's health or family.
        return f"{_('Rimborso')} #{self.pk}"
