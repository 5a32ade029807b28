from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.models import Municipio, Territory
from core.search import SearchTextMixin

from .managers import ArticleQuerySet, OrganisationQuerySet


class OrganisationKind(models.TextChoices):
    PUBLIC_BODY = "public_body", _("Ente pubblico")
    FIRM = "firm", _("Impresa")
    SOCIAL_COOPERATIVE = "social_coop", _("Cooperativa sociale")
    ASSOCIATION = "association", _("Associazione")
    TRADE_UNION = "trade_union", _("Sindacato")
    EMPLOYERS_ASSOCIATION = "employers", _("Associazione datoriale")
    UNIVERSITY = "university", _("Università")
    COWORKING_OPERATOR = "coworking", _("Gestore di coworking")
    TRAINING_BODY = "training", _("Ente di formazione")


class SizeClass(models.TextChoices):
    # Recommendation 2003/361/EC: micro < 10, small < 50, medium < 250 people.
    MICRO = "micro", _("Micro (meno di 10 addetti)")
    SMALL = "small", _("Piccola (10-49 addetti)")
    MEDIUM = "medium", _("Media (50-249 addetti)")
    LARGE = "large", _("Grande (250 addetti e oltre)")


class NetworkRole(models.TextChoices):
    LEAD = "lead", _("Capofila")
    PARTNER = "partner", _("Partner")
    ATI_MEMBER = "ati_member", _("Membro dell'ATI")
    MEMBER_FIRM = "member_firm", _("Impresa aderente")
    PROVIDER = "provider", _("Fornitore di servizi")


def _choice_label(choices: type[models.TextChoices], value: str):
    """What get_FOO_display() shows, for a directory card.

    get_FOO_display() builds a dict of every choice on each call, which hashes each lazy label and
    so translates all of them (about 40 µs a call, 60 calls a directory page); the enum finds the one
    member, whose label is translated once when rendered.
    """
    try:
        return choices(value).label
    except ValueError:
        return value


class Organisation(SearchTextMixin, models.Model):
    """A member of a territory's network."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="organisations")
    name = models.CharField(_("nome"), max_length=200)
    slug = models.SlugField(_("identificativo"), max_length=120)
    kind = models.CharField(_("tipo"), max_length=20, choices=OrganisationKind.choices)
    size_class = models.CharField(_("dimensione"), max_length=10, choices=SizeClass.choices, blank=True)
    network_role = models.CharField(_("ruolo nella rete"), max_length=20, choices=NetworkRole.choices)
    description = models.TextField(_("descrizione"), blank=True)
    contribution = models.TextField(
        _("contributo alla rete"), blank=True, help_text=_("Cosa l'organizzazione si impegna a portare alla rete.")
    )
    contribution_cents = models.PositiveBigIntegerField(
        _("cofinanziamento impegnato (centesimi)"), null=True, blank=True
    )
    vat_number = models.CharField(_("partita IVA"), max_length=11, blank=True)
    tax_code = models.CharField(_("codice fiscale"), max_length=16, blank=True)
    address = models.CharField(_("indirizzo"), max_length=200, blank=True)
    postal_code = models.CharField(_("CAP"), max_length=5, blank=True)
    city = models.CharField(_("comune"), max_length=100, blank=True)
    municipio = models.ForeignKey(
        Municipio, null=True, blank=True, on_delete=models.SET_NULL, related_name="organisations"
    )
    latitude = models.DecimalField(_("latitudine"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitudine"), max_digits=9, decimal_places=6, null=True, blank=True)
    website = models.URLField(_("sito web"), blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("telefono"), max_length=30, blank=True)
    logo = models.ImageField(_("logo"), upload_to="logos/", blank=True)
    joined_on = models.DateField(_("aderente dal"), default=timezone.localdate)
    is_active = models.BooleanField(_("attiva"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organizzazione")
        verbose_name_plural = _("organizzazioni")
        constraints = [
            models.UniqueConstraint(fields=["territory", "slug"], name="organisation_unique_slug"),
            # One organisation is one member: a second join request for it is refused (network/forms.py).
            models.UniqueConstraint(
                fields=["territory", "tax_code"], condition=~models.Q(tax_code=""), name="organisation_unique_tax_code"
            ),
            models.CheckConstraint(
                condition=models.Q(kind="firm") | models.Q(size_class=""),
                name="organisation_size_only_for_firms",
            ),
        ]
        indexes = [
            # The directory's order, with the primary key as the tie-break: a deep page reads the
            # index in order instead of sorting every organisation of the territory.
            models.Index(fields=["territory", "is_active", "name", "id"], name="organisation_directory_order"),
            models.Index(fields=["territory", "kind"]),
            models.Index(fields=["territory", "network_role"]),
            models.Index(Lower("name"), name="organisation_lower_name"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("network:organisation", kwargs={"territory": self.territory.slug, "slug": self.slug})

    def build_search_text(self) -> str:
        parts = [self.name, self.description, self.contribution, self.city, self.address]
        return " ".join(p for p in parts if p).lower()

    @property
    def has_location(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    @property
    def kind_label(self):
        return _choice_label(OrganisationKind, self.kind)

    @property
    def size_class_label(self):
        return _choice_label(SizeClass, self.size_class)

    @property
    def network_role_label(self):
        return _choice_label(NetworkRole, self.network_role)


class JoinRequest(models.Model):
    """An organisation's application to join the network, decided by the coordinator."""

    class Status(models.TextChoices):
        PENDING = "pending", _("In attesa")
        APPROVED = "approved", _("Approvata")
        REJECTED = "rejected", _("Respinta")

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="join_requests")
    status = models.CharField(_("stato"), max_length=10, choices=Status.choices, default=Status.PENDING)
    name = models.CharField(_("nome dell'organizzazione"), max_length=200)
    kind = models.CharField(_("tipo"), max_length=20, choices=OrganisationKind.choices)
    size_class = models.CharField(_("dimensione"), max_length=10, choices=SizeClass.choices, blank=True)
    requested_role = models.CharField(
        _("ruolo richiesto"),
        max_length=20,
        choices=[(NetworkRole.MEMBER_FIRM, NetworkRole.MEMBER_FIRM.label),
                 (NetworkRole.PARTNER, NetworkRole.PARTNER.label),
                 (NetworkRole.PROVIDER, NetworkRole.PROVIDER.label)],
    )
    vat_number = models.CharField(_("partita IVA"), max_length=11, blank=True)
    tax_code = models.CharField(_("codice fiscale"), max_length=16)
    address = models.CharField(_("indirizzo"), max_length=200, blank=True)
    postal_code = models.CharField(_("CAP"), max_length=5, blank=True)
    city = models.CharField(_("comune"), max_length=100, blank=True)
    municipio = models.ForeignKey(Municipio, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    website = models.URLField(_("sito web"), blank=True)
    contact_name = models.CharField(_("referente"), max_length=150)
    email = models.EmailField(_("email del referente"))
    phone = models.CharField(_("telefono"), max_length=30, blank=True)
    motivation = models.TextField(_("perché volete aderire"), blank=True)
    privacy_acknowledged_at = models.DateTimeField(_("informativa privacy presa visione il"))
    # The language of the form the applicant filled in: every mail about the request is written in it.
    language = models.CharField(_("lingua"), max_length=8, choices=settings.LANGUAGES, default="it")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejection_reason = models.TextField(_("motivo del rifiuto"), blank=True)
    organisation = models.OneToOneField(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="join_request"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("richiesta di adesione")
        verbose_name_plural = _("richieste di adesione")
        indexes = [models.Index(fields=["territory", "status", "-created_at"])]
        constraints = [
            # A double click, or two tabs, must not file the same organisation twice.
            models.UniqueConstraint(
                fields=["territory", "tax_code"], condition=models.Q(status="pending"),
                name="join_request_one_pending_per_organisation",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class Article(models.Model):
    """A news item of the network."""

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="articles")
    slug = models.SlugField(_("identificativo"), max_length=120)
    title = models.CharField(_("titolo"), max_length=200)
    title_en = models.CharField(_("titolo (inglese)"), max_length=200, blank=True)
    summary = models.CharField(_("sommario"), max_length=400)
    summary_en = models.CharField(_("sommario (inglese)"), max_length=400, blank=True)
    body = models.TextField(_("testo (Markdown)"))
    body_en = models.TextField(_("testo in inglese (Markdown)"), blank=True)
    published_at = models.DateTimeField(_("pubblicato il"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at"]
        verbose_name = _("notizia")
        verbose_name_plural = _("notizie")
        constraints = [models.UniqueConstraint(fields=["territory", "slug"], name="article_unique_slug")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("network:article", kwargs={"territory": self.territory.slug, "slug": self.slug})

    @property
    def is_published(self) -> bool:
        return self.published_at is not None and self.published_at <= timezone.now()

    def _localized(self, field: str) -> str:
        english = getattr(self, f"{field}_en")
        return english if get_language() == "en" and english else getattr(self, field)

    @property
    def localized_title(self) -> str:
        return self._localized("title")

    @property
    def localized_summary(self) -> str:
        return self._localized("summary")

    @property
    def localized_body(self) -> str:
        return self._localized("body")
