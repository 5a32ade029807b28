import uuid

from django.apps import apps
from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .audit_labels import ACTOR_LABELS, action_label, describe_changes


class Territory(models.Model):
    """A territory hosts one work-life-balance network; everything else belongs to one."""

    slug = models.SlugField(_("identificativo"), max_length=60, unique=True)
    name = models.CharField(_("nome"), max_length=120)
    region = models.CharField(_("regione"), max_length=80, blank=True)
    network_name = models.CharField(_("nome della rete"), max_length=200)
    network_motto = models.CharField(_("motto"), max_length=200, blank=True)
    description = models.TextField(_("descrizione"), blank=True)
    # db_default on the fields added later: rows written by code that predates them (an app server
    # not yet restarted during a deploy, a data migration's historical model) still get a value.
    description_en = models.TextField(_("descrizione in inglese"), blank=True, default="", db_default="")
    center_latitude = models.DecimalField(_("latitudine del centro"), max_digits=9, decimal_places=6)
    center_longitude = models.DecimalField(_("longitudine del centro"), max_digits=9, decimal_places=6)
    contact_email = models.EmailField(_("email della rete"), blank=True)
    # GDPR art. 13(1)(a)-(b): the privacy notice (core/pages.py) sends people to the footer for these.
    data_controller = models.CharField(
        _("titolare del trattamento dei dati"), max_length=200, blank=True, default="", db_default="",
        help_text=_("L'ente capofila della rete, per esempio «Comune di Milano»."),
    )
    dpo_email = models.EmailField(_("email del responsabile della protezione dei dati (RPD)"), blank=True, default="",
                                  db_default="")
    is_active = models.BooleanField(_("attivo"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("territorio")
        verbose_name_plural = _("territori")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("core:territory_home", kwargs={"territory": self.slug})

    @property
    def localized_description(self) -> str:
        return self.description_en if get_language() == "en" and self.description_en else self.description


class Municipio(models.Model):
    """An administrative district of a territory (Milan has nine Municipi)."""

    territory = models.ForeignKey(Territory, on_delete=models.CASCADE, related_name="municipi")
    number = models.PositiveSmallIntegerField(_("numero"))
    name = models.CharField(_("nome"), max_length=120)

    class Meta:
        ordering = ["territory", "number"]
        verbose_name = _("municipio")
        verbose_name_plural = _("municipi")
        constraints = [
            models.UniqueConstraint(fields=["territory", "number"], name="municipio_unique_number"),
        ]

    def __str__(self) -> str:
        return self.name


# Rows about one person's welfare (what they bought, refunds, family declarations): kept for the
# record, but not shown in the coordinator's log (see welfare's privacy rules in docs/welfare.md).
PERSONAL_ACTIONS = ("welfare.order.", "welfare.voucher.", "welfare.refund.", "welfare.worker.children", "welfare.wallet.")


class AuditLogQuerySet(models.QuerySet):
    def in_territory(self, territory: Territory) -> "AuditLogQuerySet":
        return self.filter(territory=territory)

    def for_coordinators(self) -> "AuditLogQuerySet":
        personal = models.Q()
        for prefix in PERSONAL_ACTIONS:
            personal |= models.Q(action__startswith=prefix)
        return self.exclude(personal)


class AuditLog(models.Model):
    """Who changed what, and when. Written in the same transaction as the change itself."""

    created_at = models.DateTimeField(_("quando"), auto_now_add=True, db_index=True)
    territory = models.ForeignKey(Territory, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("autore"), max_length=254, blank=True)
    action = models.CharField(_("azione"), max_length=80, db_index=True)
    object_type = models.CharField(_("tipo di oggetto"), max_length=80)
    object_id = models.CharField(_("id oggetto"), max_length=64, blank=True)
    object_repr = models.CharField(_("oggetto"), max_length=200, blank=True)
    changes = models.JSONField(_("modifiche"), default=dict, blank=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("voce del registro attività")
        verbose_name_plural = _("registro attività")
        indexes = [models.Index(fields=["territory", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_repr}"

    @property
    def action_label(self) -> str:
        return action_label(self.action)

    @property
    def actor_display(self) -> str:
        """Who did it, for people: the platform's own words ("sistema", "anonimo") in the reader's language."""
        return str(ACTOR_LABELS.get(self.actor_label, self.actor_label))

    def describe_changes(self, organisation_names: dict[int, str] | None = None) -> list[tuple[str, str]]:
        try:
            model = apps.get_model(self.object_type) if self.object_type else None
        except (LookupError, ValueError):
            model = None  # a model since removed, or a free-form type
        return describe_changes(self.changes, model=model, organisation_names=organisation_names)

    def organisation_ids(self) -> set[int]:
        """The organisations `changes` names by id, for describe_changes to name them."""
        value = self.changes.get("organisation") if isinstance(self.changes, dict) else None
        values = value if isinstance(value, list) else [value]
        return {v for v in values if isinstance(v, int) and not isinstance(v, bool)}


class Page(models.Model):
    """A static page (privacy notice, accessibility statement, legal notes)."""

    slug = models.SlugField(_("identificativo"), max_length=80, unique=True)
    title = models.CharField(_("titolo"), max_length=200)
    title_en = models.CharField(_("titolo (inglese)"), max_length=200, blank=True)
    body = models.TextField(_("testo (Markdown)"))
    body_en = models.TextField(_("testo in inglese (Markdown)"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("pagina")
        verbose_name_plural = _("pagine")

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("core:page", kwargs={"slug": self.slug})

    @property
    def localized_title(self) -> str:
        return self.title_en if get_language() == "en" and self.title_en else self.title

    @property
    def localized_body(self) -> str:
        return self.body_en if get_language() == "en" and self.body_en else self.body


class SentMail(models.Model):
    """A copy of each message we send, so every mail can also be read as a web page."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    to = models.EmailField()
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Handed to the mail server: a delivery task run again (core.tasks.requeue_stalled_tasks) sends nothing.
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("messaggio inviato")
        verbose_name_plural = _("messaggi inviati")

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"

    def get_absolute_url(self) -> str:
        return reverse("core:sent_mail", kwargs={"token": self.token})


class SentMailAttachment(models.Model):
    """A file sent with a message (a calendar entry, a ticket), kept so a retry sends it again."""

    sent_mail = models.ForeignKey(SentMail, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(max_length=200)
    mimetype = models.CharField(max_length=100)
    content = models.BinaryField()

    class Meta:
        verbose_name = _("allegato")
        verbose_name_plural = _("allegati")

    def __str__(self) -> str:
        return self.filename


class IdempotencyKey(models.Model):
    """A client's `Idempotency-Key` for one POST: claimed before the work runs, then the answer to replay.

    See core/idempotency.py. A row without `response_status` is a request still running.
    """

    # "user:<id>" for a signed-in caller or a token, "address:<ip>" for an anonymous one.
    caller = models.CharField(max_length=100)
    # "POST /api/v1/events/7/registrations": a key means something only for one operation on one object.
    operation = models.CharField(max_length=255)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64, help_text="SHA-256 of the raw request body.")
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("chiave di idempotenza")
        verbose_name_plural = _("chiavi di idempotenza")
        constraints = [
            # What makes two requests at once safe: only one can insert the claim.
            models.UniqueConstraint(fields=["caller", "operation", "key"], name="idempotency_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.caller} {self.operation} {self.key}"

    @property
    def is_complete(self) -> bool:
        return self.response_status is not None
