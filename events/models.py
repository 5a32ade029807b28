import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.models import Territory
from network.models import Organisation

from .managers import EventQuerySet, RegistrationQuerySet

# Ticket codes avoid letters people confuse when they type them at the door (0/O, 1/I/L).
TICKET_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
TICKET_LENGTH = 8
# Ten years: longer than any reason to keep who came to an event, and far from the calendar's end.
MAX_RETENTION_DAYS = 3650


def new_ticket_code() -> str:
    return "".join(secrets.choice(TICKET_ALPHABET) for _ in range(TICKET_LENGTH))


class Event(models.Model):
    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In presenza")
        ONLINE = "online", _("Online")
        HYBRID = "hybrid", _("Ibrido")

    class TableMode(models.TextChoices):
        NONE = "none", _("Nessun tavolo")
        FIRST_COME = "first_come", _("Scelta del tavolo in ordine di iscrizione")
        RANKED = "ranked", _("Preferenze ordinate, assegnazione del coordinamento")

    territory = models.ForeignKey(Territory, on_delete=models.PROTECT, related_name="events")
    slug = models.SlugField(_("identificativo"), max_length=120)
    title = models.CharField(_("titolo"), max_length=200)
    summary = models.CharField(_("sommario"), max_length=400)
    description = models.TextField(_("descrizione (Markdown)"), blank=True)
    mode = models.CharField(_("modalità"), max_length=10, choices=Mode.choices, default=Mode.IN_PERSON)
    venue_name = models.CharField(_("luogo"), max_length=200, blank=True)
    venue_address = models.CharField(_("indirizzo"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitudine"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitudine"), max_digits=9, decimal_places=6, null=True, blank=True)
    online_url = models.URLField(_("collegamento online"), blank=True)
    starts_at = models.DateTimeField(_("inizio"))
    ends_at = models.DateTimeField(_("fine"))
    capacity = models.PositiveIntegerField(_("posti"))
    # Seats taken (confirmed registrations plus open offers), kept by the services under a row lock
    # or a conditional UPDATE; the constraint below makes overbooking impossible even for a bug.
    seats_taken = models.PositiveIntegerField(default=0, editable=False)
    registration_opens_at = models.DateTimeField(_("iscrizioni aperte dal"), null=True, blank=True)
    registration_closes_at = models.DateTimeField(_("iscrizioni chiuse dal"), null=True, blank=True)
    offer_hours = models.PositiveSmallIntegerField(
        _("ore per accettare un posto liberato"),
        null=True,
        blank=True,
        help_text=_("Vuoto: chi è in lista d'attesa riceve il posto subito. Altrimenti ha queste ore per accettarlo."),
    )
    table_mode = models.CharField(_("tavoli di lavoro"), max_length=12, choices=TableMode.choices, default=TableMode.NONE)
    retention_days = models.PositiveSmallIntegerField(
        _("conservazione dei dati (giorni dopo l'evento)"), default=180,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RETENTION_DAYS)],
    )
    organisers = models.ManyToManyField(Organisation, blank=True, related_name="organised_events", verbose_name=_("organizzatori"))
    is_published = models.BooleanField(_("pubblicato"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped when the date, times, venue or online link change: the SEQUENCE of its calendar entry,
    # so that calendars replace the entry people saved from their confirmation (RFC 5545 §3.8.7.4).
    calendar_sequence = models.PositiveIntegerField(default=0, editable=False)
    details_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Bumped by every save in the editor: a form opened before another coordinator saved is refused
    # instead of silently undoing their changes.
    edit_version = models.PositiveIntegerField(default=0, editable=False)

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("evento")
        verbose_name_plural = _("eventi")
        constraints = [
            models.UniqueConstraint(fields=["territory", "slug"], name="event_unique_slug"),
            models.CheckConstraint(condition=models.Q(seats_taken__lte=models.F("capacity")), name="event_not_overbooked"),
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"),
        ]
        indexes = [models.Index(fields=["territory", "is_published", "starts_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("events:event", kwargs={"territory": self.territory.slug, "slug": self.slug})

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_past(self) -> bool:
        return self.ends_at <= timezone.now()

    @property
    def has_started(self) -> bool:
        """From then on a certificate of attendance may say the person took part."""
        return self.starts_at <= timezone.now()

    @property
    def is_before_its_day(self) -> bool:
        return timezone.localdate() < timezone.localtime(self.starts_at).date()

    def is_registration_open(self, now=None) -> bool:
        now = now or timezone.now()
        if not self.is_published or self.ends_at <= now:
            return False
        if self.registration_opens_at and now < self.registration_opens_at:
            return False
        return not (self.registration_closes_at and now >= self.registration_closes_at)

    @property
    def registration_has_closed(self) -> bool:
        """Its registration deadline has passed (the event itself may still be ahead)."""
        return bool(self.registration_closes_at and self.registration_closes_at <= timezone.now())

    @property
    def purge_after(self):
        return self.ends_at + timedelta(days=self.retention_days)


class Session(models.Model):
    """A slot of the programme: a talk, a panel, the working tables, a break."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sessions")
    starts_at = models.DateTimeField(_("inizio"))
    ends_at = models.DateTimeField(_("fine"))
    title = models.CharField(_("titolo"), max_length=200)
    room = models.CharField(_("sala"), max_length=120, blank=True)
    speakers = models.CharField(_("relatori"), max_length=400, blank=True)
    description = models.TextField(_("descrizione"), blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("sessione")
        verbose_name_plural = _("programma")

    def __str__(self) -> str:
        return self.title


class WorkingTable(models.Model):
    """A parallel working table ("tavolo di lavoro") of an event, with its own seats."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="tables")
    title = models.CharField(_("titolo"), max_length=200)
    description = models.TextField(_("descrizione"), blank=True)
    capacity = models.PositiveIntegerField(_("posti"))
    seats_taken = models.PositiveIntegerField(default=0, editable=False)
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("facilitatore"),
    )
    summary = models.TextField(_("sintesi del facilitatore"), blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["event", "position", "pk"]
        verbose_name = _("tavolo di lavoro")
        verbose_name_plural = _("tavoli di lavoro")
        constraints = [
            models.CheckConstraint(condition=models.Q(seats_taken__lte=models.F("capacity")), name="table_not_overbooked"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)


class Question(models.Model):
    """A question of the event's own registration form, defined by the coordinator."""

    class Kind(models.TextChoices):
        TEXT = "text", _("Testo")
        SINGLE = "single", _("Scelta singola")
        MULTIPLE = "multiple", _("Scelta multipla")
        YES_NO = "yes_no", _("Sì / no")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="questions")
    label = models.CharField(_("domanda"), max_length=300)
    kind = models.CharField(_("tipo"), max_length=10, choices=Kind.choices)
    choices = models.JSONField(_("opzioni"), default=list, blank=True, help_text=_("Per le domande a scelta."))
    is_required = models.BooleanField(_("obbligatoria"), default=False)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["event", "position", "pk"]
        verbose_name = _("domanda")
        verbose_name_plural = _("domande")

    def __str__(self) -> str:
        return self.label

    @property
    def field_name(self) -> str:
        return f"q_{self.pk}"

    def display(self, answer) -> str:
        """An answer as people read it: "Sì"/"No" in the current language, choices joined."""
        if isinstance(answer, list):
            return ", ".join(answer)
        if self.kind == self.Kind.YES_NO and answer in ("yes", "no"):
            return str(_("Sì") if answer == "yes" else _("No"))
        return answer or ""


class Registration(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("Confermata")
        WAITLISTED = "waitlisted", _("In lista d'attesa")
        OFFERED = "offered", _("Posto offerto, in attesa di risposta")
        CANCELLED = "cancelled", _("Annullata")

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations")
    status = models.CharField(_("stato"), max_length=10, choices=Status.choices)
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    ticket_code = models.CharField(_("codice del biglietto"), max_length=TICKET_LENGTH, unique=True, default=new_ticket_code)
    first_name = models.CharField(_("nome"), max_length=100)
    last_name = models.CharField(_("cognome"), max_length=100)
    email = models.EmailField(_("email"))
    organisation_name = models.CharField(_("organizzazione"), max_length=200, blank=True)
    role_title = models.CharField(_("ruolo"), max_length=150, blank=True)
    accessibility_needs = models.TextField(_("esigenze di accessibilità"), blank=True)
    answers = models.JSONField(_("risposte"), default=dict, blank=True)
    newsletter_opt_in = models.BooleanField(_("newsletter"), default=False)
    photo_opt_in = models.BooleanField(_("consenso alle foto"), default=False)
    privacy_acknowledged_at = models.DateTimeField()
    language = models.CharField(max_length=5, default="it")
    table = models.ForeignKey(WorkingTable, null=True, blank=True, on_delete=models.SET_NULL, related_name="registrations")
    # Per-table waiting list (first-come tables): the full table this person waits for, and since when.
    waiting_table = models.ForeignKey(
        WorkingTable, null=True, blank=True, on_delete=models.SET_NULL, related_name="waiting_registrations"
    )
    waiting_table_since = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(_("presente dalle"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    is_anonymised = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = RegistrationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("iscrizione")
        verbose_name_plural = _("iscrizioni")
        constraints = [
            # One live registration per person and event: a double click or a second try never
            # creates two. The email is stored lower-cased by the service.
            models.UniqueConstraint(
                fields=["event", "email"],
                condition=~models.Q(status="cancelled"),
                name="registration_one_live_per_email",
            ),
        ]
        indexes = [
            models.Index(fields=["event", "status", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def get_absolute_url(self) -> str:
        return reverse("events:registration", kwargs={"token": self.token})

    @property
    def full_name(self) -> str:
        if self.is_anonymised:
            # What staff see in its place on the lists, the check-in and the exports: not a bare dash.
            return gettext("(dati cancellati su richiesta)")
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def holds_seat(self) -> bool:
        return self.status in {self.Status.CONFIRMED, self.Status.OFFERED}

    def can_cancel(self) -> bool:
        """Never once checked in, and a confirmed seat only until the event starts: the attendance
        count, the certificates and the statistics must stay true. A place on the waiting list, or
        an offer, can always be given up: it holds no attendance, and keeping it would let a seat
        go later to someone who has left (or erased their data)."""
        if self.status == self.Status.CANCELLED or self.checked_in_at is not None:
            return False
        return self.status != self.Status.CONFIRMED or not self.event.has_started


class TablePreference(models.Model):
    """A registrant's ranking of the working tables (1 = first choice), for the optimal assignment."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="preferences")
    table = models.ForeignKey(WorkingTable, on_delete=models.CASCADE, related_name="preferences")
    rank = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["registration", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["registration", "table"], name="preference_once_per_table"),
            models.UniqueConstraint(fields=["registration", "rank"], name="preference_rank_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.registration} → {self.table} ({self.rank})"


class IdeaQuerySet(models.QuerySet):
    def visible(self) -> "IdeaQuerySet":
        return self.filter(is_hidden=False)

    def ranked(self) -> "IdeaQuerySet":
        """Most voted first, then the oldest: the order of a table's outcomes."""
        return self.annotate(vote_count=models.Count("votes")).order_by("-vote_count", "created_at", "pk")


class Idea(models.Model):
    """An idea posted on a working table's board by a confirmed participant."""

    TEXT_MAX_LENGTH = 500

    table = models.ForeignKey(WorkingTable, on_delete=models.CASCADE, related_name="ideas")
    # Participants have no account: they act through their registration. Boards show no author.
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="ideas")
    text = models.CharField(_("idea"), max_length=TEXT_MAX_LENGTH)
    is_hidden = models.BooleanField(_("nascosta"), default=False)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IdeaQuerySet.as_manager()

    class Meta:
        ordering = ["table", "created_at", "pk"]
        verbose_name = _("idea")
        verbose_name_plural = _("idee")
        indexes = [models.Index(fields=["table", "is_hidden"])]

    def __str__(self) -> str:
        return self.text[:60]


class IdeaVote(models.Model):
    """One person's vote for an idea. The constraint makes a second vote impossible, whatever the race."""

    idea = models.ForeignKey(Idea, on_delete=models.CASCADE, related_name="votes")
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="idea_votes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("voto")
        verbose_name_plural = _("voti")
        constraints = [
            models.UniqueConstraint(fields=["idea", "registration"], name="idea_vote_once_per_person"),
        ]

    def __str__(self) -> str:
        return f"{self.registration_id} → {self.idea_id}"
