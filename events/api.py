"""The events API: the public programme, registration and cancellation; events, check-in and
registrations for the network's staff.

Registration is validated by the same RegistrationForm as the web page and goes through the same
services, so both follow one set of rules. Error codes besides the common ones (see API.md):
409 `registration_closed`, `already_registered`, `already_exists` (an event's slug),
`not_confirmed` (a ticket whose registration holds no seat); 404 `ticket_not_found`;
422 `idempotency_key_reused`, 409 `idempotency_key_in_progress` (see core/idempotency.py).
"""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import AfterValidator, AwareDatetime, StringConstraints

from accounts.api import ApiError, BearerToken
from accounts.permissions import Perm, can
from core.api import SLUG_PATTERN, Page, PageParams, PublicWriteThrottle, RowId, api_enum, paginate, territory_for_input
from core.idempotency import idempotent
from core.models import Territory
from core.statements import Prepared

from . import services
from .forms import RANKS, EventForm, QuestionForm, RegistrationForm, SessionForm, WorkingTableForm
from .models import MAX_RETENTION_DAYS, Event, Question, Registration, Session
from .views import REGISTRATION_LIMIT_PER_MINUTE

# PostgreSQL refuses NUL in a string parameter. (What goes through a Django form is checked there.)
NO_NUL = r"^[^\x00]*$"

router = Router(tags=["events"])


def _text(max_length: int, default: Any = ..., **kwargs) -> Any:
    return Field(default, max_length=max_length, pattern=NO_NUL, **kwargs)


def _local(moment: datetime | None) -> datetime | None:
    return timezone.localtime(moment) if moment else None


def _plausible(moment: datetime) -> datetime:
    # Far from the calendar's edges, where converting to UTC or adding retention days would overflow.
    if not 2000 <= moment.year <= 2100:
        raise ValueError("out of range")
    # Kept to the second, as the editor shows them: a fraction nobody can see would make the next
    # save from the editor look like a new time, and mail every registrant about it.
    return moment.replace(microsecond=0)


Moment = Annotated[AwareDatetime, AfterValidator(_plausible)]


# Reading -----------------------------------------------------------------------------------------


class When(StrEnum):
    UPCOMING = "upcoming"
    PAST = "past"


class EventFilters(Schema):
    territory: str = Field(..., pattern=SLUG_PATTERN, max_length=60)
    when: When = When.UPCOMING
    q: str = _text(200, "")


class TableRef(Schema):
    id: int
    title: str


class TableOut(TableRef):
    description: str
    capacity: int
    seats_left: int


class SessionOut(Schema):
    starts_at: datetime
    ends_at: datetime
    title: str
    room: str
    speakers: str
    description: str

    @staticmethod
    def resolve_starts_at(session: Session) -> datetime:
        return _local(session.starts_at)

    @staticmethod
    def resolve_ends_at(session: Session) -> datetime:
        return _local(session.ends_at)


class QuestionOut(Schema):
    id: int
    label: str
    kind: str = Field(..., description=" | ".join(Question.Kind.values))
    choices: list[str]
    is_required: bool


class OrganiserOut(Schema):
    id: int
    name: str


class EventOut(Schema):
    id: int
    territory: str
    slug: str
    title: str
    summary: str
    mode: str = Field(..., description=" | ".join(Event.Mode.values))
    venue_name: str
    venue_address: str
    latitude: float | None
    longitude: float | None
    starts_at: datetime
    ends_at: datetime
    capacity: int
    seats_left: int
    registration_open: bool
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    table_mode: str = Field(..., description=" | ".join(Event.TableMode.values))
    url: str

    @staticmethod
    def resolve_territory(event: Event) -> str:
        return event.territory.slug

    @staticmethod
    def resolve_starts_at(event: Event) -> datetime:
        return _local(event.starts_at)

    @staticmethod
    def resolve_ends_at(event: Event) -> datetime:
        return _local(event.ends_at)

    @staticmethod
    def resolve_registration_opens_at(event: Event) -> datetime | None:
        return _local(event.registration_opens_at)

    @staticmethod
    def resolve_registration_closes_at(event: Event) -> datetime | None:
        return _local(event.registration_closes_at)

    @staticmethod
    def resolve_registration_open(event: Event) -> bool:
        return event.is_registration_open()

    @staticmethod
    def resolve_url(event: Event) -> str:
        return settings.SITE_URL + event.get_absolute_url()


class EventDetailOut(EventOut):
    # The online link is not here: like the web page, it goes only to registered people by mail.
    description: str
    is_published: bool
    offer_hours: int | None
    organisers: list[OrganiserOut]
    sessions: list[SessionOut]
    tables: list[TableOut]
    questions: list[QuestionOut]


def _public_events():
    return Event.objects.published().filter(territory__is_active=True).select_related("territory")


def _with_details(events):
    return events.prefetch_related("organisers", "sessions", "tables", "questions")


@router.get("/events", response=Page[EventOut], operation_id="events_list_events")
def list_events(request, filters: Query[EventFilters], paging: Query[PageParams]):
    """One territory's published events: upcoming ones by date, or past ones latest first; `q` searches."""
    events = _public_events().in_territory(territory_for_input(request, filters.territory))
    if filters.when == When.PAST:
        events = events.past().order_by("-starts_at", "-pk")
    else:
        events = events.upcoming().order_by("starts_at", "pk")
    if filters.q.strip():
        q = filters.q.strip()
        events = events.filter(
            Q(title__icontains=q) | Q(summary__icontains=q) | Q(description__icontains=q) | Q(venue_name__icontains=q)
        )
    return paginate(events, paging)


@router.get("/events/{int:event_id}", response=EventDetailOut, operation_id="events_get_event")
def get_event(request, event_id: int):
    """A published event with its programme, working tables (and their free seats) and registration questions."""
    return get_object_or_404(_with_details(_public_events()), pk=event_id)


# Creating events ---------------------------------------------------------------------------------
# The JSON is handed to the editor's forms and service, so an event created here obeys exactly the
# rules of one created on the coordinator's page.


class SessionIn(Schema):
    title: str
    starts_at: Moment
    ends_at: Moment
    room: str = ""
    speakers: str = ""
    description: str = ""


class TableIn(Schema):
    title: str
    description: str = ""
    # The editor's form takes 0 too; a table nobody can sit at is a typo the API refuses.
    capacity: int = Field(..., ge=1)
    facilitator_email: str = Field("", description="Una persona con un ruolo nella rete del territorio.")


# The editor's form takes the options one per line.
Choice = Annotated[str, StringConstraints(pattern=r"^[^\r\n]*$")]


class QuestionIn(Schema):
    label: str
    kind: Question.Kind
    choices: list[Choice] = Field([], description="Per le domande single e multiple: almeno due opzioni.")
    is_required: bool = False


class EventIn(Schema):
    territory: str = Field(..., pattern=SLUG_PATTERN, max_length=60)
    slug: str = Field("", max_length=120, description="Unico nel territorio. Vuoto: ricavato dal titolo.")
    title: str
    summary: str
    description: str = Field("", description="Markdown.")
    mode: Event.Mode = Event.Mode.IN_PERSON
    venue_name: str = ""
    venue_address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    online_url: str = Field("", description="Inviato solo agli iscritti.")
    starts_at: Moment
    ends_at: Moment
    capacity: int
    registration_opens_at: Moment | None = None
    registration_closes_at: Moment | None = None
    offer_hours: int | None = Field(
        None, description="Vuoto: chi è in lista d'attesa riceve subito un posto liberato; altrimenti ha queste ore "
        "per accettarlo.",
    )
    table_mode: Event.TableMode = Event.TableMode.NONE
    retention_days: int = Field(
        Event._meta.get_field("retention_days").default, ge=1, le=MAX_RETENTION_DAYS,
        description="Giorni dopo l'evento, poi i dati sono anonimizzati.",
    )
    is_published: bool = False
    organisers: list[RowId] = Field([], description="Id delle organizzazioni del territorio.", max_length=100)
    sessions: list[SessionIn] = Field([], max_length=100)
    tables: list[TableIn] = Field([], max_length=100)
    questions: list[QuestionIn] = Field([], max_length=50)


def _form_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def _form_data(schema: Schema, **extra) -> dict[str, Any]:
    return {name: _form_value(value) for name, value in schema.dict().items()} | extra


def _row_forms(payload: EventIn, territory: Territory) -> dict[str, list]:
    return {
        "sessions": [SessionForm(_form_data(session)) for session in payload.sessions],
        "tables": [
            WorkingTableForm(_form_data(table, position=n), territory=territory) for n, table in enumerate(payload.tables)
        ],
        "questions": [
            QuestionForm(_form_data(question, position=n, choices_text="\n".join(question.choices)))
            for n, question in enumerate(payload.questions)
        ],
    }


def _event_errors(form: EventForm, rows: dict[str, list]) -> dict[str, list[str]]:
    """The forms' errors under the names of the API's fields: `ends_at`, `tables.0.capacity`, …"""
    fields = {name: [str(m) for m in messages] for name, messages in form.errors.items()}
    renamed = {"choices_text": "choices"}
    for list_name, forms in rows.items():
        for n, row in enumerate(forms):
            for name, messages in row.errors.items():
                name = f"{list_name}.{n}" if name == "__all__" else f"{list_name}.{n}.{renamed.get(name, name)}"
                fields[name] = [str(m) for m in messages]
    return fields


def _slug_taken() -> ApiError:
    return ApiError(
        409, "already_exists", _("Esiste già un evento con questo identificativo nel territorio."),
        {"slug": [_("Un altro evento di questo territorio usa già questo identificativo.")]},
    )


@router.post("/events", response={201: EventDetailOut}, auth=BearerToken(), operation_id="events_create_event")
def create_event(request, payload: EventIn):
    """Create an event with its programme, working tables and questions. Coordinators of the territory only.

    The same rules as the coordinator's editor; 409 `already_exists` when the slug is taken in the territory.
    """
    territory = territory_for_input(request, payload.territory)
    if not can(request.auth, Perm.MANAGE_EVENTS, territory=territory):
        raise PermissionDenied
    slug = slugify(payload.slug)
    if slug and Event.objects.filter(territory=territory, slug=slug).exists():
        raise _slug_taken()
    data = _form_data(payload, organisers=payload.organisers)
    form = EventForm(data, instance=Event(territory=territory))
    rows = _row_forms(payload, territory)
    valid = [form.is_valid()] + [row.is_valid() for forms in rows.values() for row in forms]
    if not all(valid):
        raise ApiError(422, "invalid_input", _("Alcuni dati non sono validi."), _event_errors(form, rows))
    try:
        event, _promoted, _informed = services.save_event(
            territory=territory, event=None,
            data={field: form.cleaned_data[field] for field in services.EVENT_FIELDS},
            organisers=list(form.cleaned_data["organisers"]),
            sessions=[row.save(commit=False) for row in rows["sessions"]],
            tables=[row.save(commit=False) for row in rows["tables"]],
            questions=[row.save(commit=False) for row in rows["questions"]],
            deleted=[], actor=request.auth,
        )
    except IntegrityError:
        # Two creations with the same slug at once: the database's unique constraint chose.
        if Event.objects.filter(territory=territory, slug=form.cleaned_data["slug"]).exists():
            raise _slug_taken() from None
        raise
    return Status(201, _with_details(Event.objects.select_related("territory")).get(pk=event.pk))


# Registering and cancelling ----------------------------------------------------------------------


class RegistrationIn(Schema):
    first_name: str
    last_name: str
    email: str
    organisation_name: str = ""
    role_title: str = ""
    accessibility_needs: str = ""
    newsletter_opt_in: bool = False
    photo_opt_in: bool = False
    privacy_acknowledged: bool = Field(..., description="Deve essere true: la persona ha letto l'informativa.")
    answers: dict[str, Any] = Field(
        {}, description="Le risposte alle domande dell'evento per id: un testo; \"yes\"/\"no\" o true/false per "
        "le domande sì/no; un elenco di testi per le scelte multiple.",
    )
    table_id: int | None = Field(None, description="Tavoli a scelta (table_mode first_come): il tavolo scelto.")
    preferences: list[int] = Field(
        [], max_length=RANKS, description="Tavoli con preferenze (table_mode ranked): gli id in ordine di preferenza.",
    )


class RegistrationOut(Schema):
    id: int
    event: int
    status: str = Field(..., description=" | ".join(Registration.Status.values))
    ticket_code: str | None = Field(..., description="Solo per le iscrizioni confermate.")
    token: UUID = Field(..., description="Segreto della persona iscritta: dà accesso all'iscrizione e all'annullamento.")
    registration_url: str
    table: TableRef | None
    waiting_table: TableRef | None
    offer_expires_at: datetime | None
    created_at: datetime

    @staticmethod
    def resolve_event(registration: Registration) -> int:
        return registration.event_id

    @staticmethod
    def resolve_ticket_code(registration: Registration) -> str | None:
        return registration.ticket_code if registration.status == Registration.Status.CONFIRMED else None

    @staticmethod
    def resolve_registration_url(registration: Registration) -> str:
        return settings.SITE_URL + registration.get_absolute_url()

    @staticmethod
    def resolve_offer_expires_at(registration: Registration) -> datetime | None:
        return _local(registration.offer_expires_at)

    @staticmethod
    def resolve_created_at(registration: Registration) -> datetime:
        return _local(registration.created_at)


# What registering reads of the event, in one query: the columns the checks and the writes use (a
# rush reads this row once per person, and each column costs the ORM more than the database), the
# territory's id for the audit row, and whether the event asks questions (most ask none, and then
# they are not read). A column used later and left out here would cost a query of its own each time:
# test_a_registration_reads_the_event_once_and_nothing_else. Its SQL is built once (core/statements.py):
# building it cost more than running it.
_EVENT_TO_REGISTER = Prepared(
    lambda pk: _public_events()
    .filter(pk=pk)
    .only("territory_id", "capacity", "seats_taken", "registration_opens_at", "registration_closes_at", "ends_at",
          "table_mode", "is_published")
    .annotate(has_questions=Exists(Question.objects.filter(event=OuterRef("pk"))))
)


def _event_to_register(event_id: int) -> Event:
    event = _EVENT_TO_REGISTER.get(event_id)
    if event is None:
        raise Http404
    # The territory as only("territory__id") loads it: its id, the rest deferred; the audit row needs no more.
    event.territory = Territory.from_db(event._state.db, ["id"], [event.territory_id])
    return event


def _registration_form(event: Event, payload: RegistrationIn) -> RegistrationForm:
    """The web form, bound to the API's body; errors are renamed after the API's fields."""
    data: dict[str, Any] = payload.dict(exclude={"answers", "table_id", "preferences"})
    extra: dict[str, list[str]] = {}
    questions = {str(question.pk): question for question in event.questions.all()} if event.has_questions else {}
    for key, value in payload.answers.items():
        question = questions.get(key)
        if question is None:
            extra[f"answers.{key}"] = [_("Questo evento non ha una domanda con questo id.")]
        elif question.kind == Question.Kind.MULTIPLE:
            if isinstance(value, list) and all(isinstance(item, str) for item in value):
                data[question.field_name] = value
            else:
                extra[f"answers.{key}"] = [_("Deve essere un elenco di testi.")]
        elif question.kind == Question.Kind.YES_NO and isinstance(value, bool):
            data[question.field_name] = "yes" if value else "no"
        elif isinstance(value, str):
            data[question.field_name] = value
        else:
            extra[f"answers.{key}"] = [_("Deve essere un testo.")]
    form = RegistrationForm(data, event=event, questions=list(questions.values()))
    # Which table fields exist depends on the event's tables, known once the form is built; the form
    # reads its data only when validated, below.
    if payload.table_id is not None:
        if "table" in form.fields:
            form.data["table"] = payload.table_id
        else:
            extra["table_id"] = [_("In questo evento non si sceglie il tavolo.")]
    if payload.preferences:
        ranks = [name for name in form.fields if name.startswith("preference_")]
        if not ranks:
            extra["preferences"] = [_("In questo evento non si indicano preferenze di tavolo.")]
        elif len(payload.preferences) > len(ranks):
            extra["preferences"] = [_("Al massimo %(limit)s preferenze.") % {"limit": len(ranks)}]
        for name, table in zip(ranks, payload.preferences, strict=False):
            form.data[name] = table
    form.is_valid()
    renamed = {f"q_{key}": f"answers.{key}" for key in questions} | {"table": "table_id"}
    fields: dict[str, list[str]] = {}
    for name, messages in form.errors.items():
        name = "preferences" if name.startswith("preference_") else renamed.get(name, name)
        fields.setdefault(name, []).extend(str(message) for message in messages)
    for name, messages in extra.items():
        fields.setdefault(name, []).extend(messages)
    if fields:
        raise ApiError(422, "invalid_input", _("Alcuni dati non sono validi."), fields)
    return form


@router.post(
    "/events/{int:event_id}/registrations",
    response={201: RegistrationOut},
    operation_id="events_register",
    throttle=PublicWriteThrottle(f"{REGISTRATION_LIMIT_PER_MINUTE}/m", scope="events_registration"),
)
@idempotent
def register(request, event_id: int, payload: RegistrationIn):
    """Register for a published event: `confirmed` with a ticket while seats last, then `waitlisted`.

    Same rules and emails as the web form. Send an `Idempotency-Key` to retry safely.
    """
    event = _event_to_register(event_id)
    if not event.is_registration_open():
        raise ApiError(409, "registration_closed", _("Le iscrizioni a questo evento sono chiuse."))
    form = _registration_form(event, payload)
    try:
        registration = services.register_attendee(
            event=event, data=form.registration_data(), answers=form.answers(),
            preferences=form.preferences(), table_id=form.table_id(),
            language=translation.get_language() or "it",
            actor=request.user if request.user.is_authenticated else None,
        )
    except services.AlreadyRegistered:
        raise ApiError(
            409, "already_registered", _("Questa email è già iscritta all'evento: controlla la tua casella di posta."),
            {"email": [_("Già iscritta.")]},
        ) from None
    except services.RegistrationClosed:
        raise ApiError(409, "registration_closed", _("Le iscrizioni a questo evento sono chiuse.")) from None
    return Status(201, registration)


def _own_registration(token: UUID) -> Registration:
    return get_object_or_404(
        Registration.objects.select_related("table", "waiting_table"), token=token, is_anonymised=False
    )


@router.get("/registrations/{uuid:token}", response=RegistrationOut, operation_id="events_get_registration")
def get_registration(request, token: UUID):
    """A registration by its secret token (from the registration's answer or emails): its current status."""
    return _own_registration(token)


@router.post("/registrations/{uuid:token}/cancel", response=RegistrationOut, operation_id="events_cancel_registration")
def cancel_registration(request, token: UUID):
    """Cancel by the secret token; a freed seat goes at once to the waiting list. Cancelling twice is harmless.

    409 `cancel_closed` once the person has checked in or the event has started.
    """
    registration = _own_registration(token)
    try:
        services.cancel_registration(registration=registration)
    except services.CancelClosed:
        raise ApiError(409, "cancel_closed", _("L'evento è iniziato o l'ingresso è già registrato: "
                                               "l'iscrizione non si può più annullare.")) from None
    return _own_registration(token)


# Staff: check-in and the registrations list -------------------------------------------------------


def _staff_event(request, event_id: int, perm: Perm) -> Event:
    event = Event.objects.select_related("territory").filter(pk=event_id).first()
    if event is None:
        raise Http404
    if perm == Perm.CHECK_IN_ATTENDEES:
        allowed = can(request.auth, perm, event=event)
    else:
        allowed = can(request.auth, perm, territory=event.territory)
    if not allowed:
        # A draft stays invisible to whoever may not work on it; a published event is public anyway.
        raise PermissionDenied if event.is_published else Http404
    return event


class CheckInIn(Schema):
    ticket_code: str = _text(50, min_length=1)


class CheckInOut(Schema):
    result: str = Field(..., description="checked_in | already_checked_in")
    registration: int
    name: str
    organisation_name: str
    table: str | None
    checked_in_at: datetime


@router.post(
    "/events/{int:event_id}/check-ins", response=CheckInOut, auth=BearerToken(), operation_id="events_check_in",
)
def check_in(request, event_id: int, payload: CheckInIn):
    """Mark a ticket present at the door. Scanning it again answers `already_checked_in` and counts nothing.

    404 `ticket_not_found`: no such ticket for this event; 409 `not_confirmed`: the registration holds no seat.
    """
    event = _staff_event(request, event_id, Perm.CHECK_IN_ATTENDEES)
    result, registration = services.check_in(event=event, ticket_code=payload.ticket_code, actor=request.auth)
    if registration is None:
        raise ApiError(404, "ticket_not_found", _("Nessun biglietto con questo codice per questo evento."))
    if result == services.CheckInResult.NOT_CONFIRMED:
        raise ApiError(
            409, "not_confirmed", _("Questa iscrizione non ha un posto confermato (stato: %(status)s).")
            % {"status": registration.get_status_display()},
        )
    return {
        "result": result,
        "registration": registration.pk,
        "name": registration.full_name,
        "organisation_name": registration.organisation_name,
        "table": registration.table.title if registration.table else None,
        "checked_in_at": _local(registration.checked_in_at),
    }


class CheckInUndoneOut(Schema):
    result: str = "undone"
    registration: int
    name: str


@router.delete(
    "/events/{int:event_id}/check-ins/{ticket_code}", response=CheckInUndoneOut, auth=BearerToken(),
    operation_id="events_undo_check_in",
)
def undo_check_in(request, event_id: int, ticket_code: str):
    """Take back a check-in made by mistake (the wrong ticket scanned): the person counts as absent again.

    Coordinators may take back any check-in; the staff of an organising member only one they made
    themselves in the last 15 minutes (403 `forbidden` otherwise). 404 `ticket_not_found`: no such ticket
    for this event; 409 `not_checked_in`: it was not checked in (or its person's data was erased).
    """
    event = _staff_event(request, event_id, Perm.CHECK_IN_ATTENDEES)
    result, registration = services.take_back_check_in(event=event, ticket_code=ticket_code[:40], actor=request.auth)
    if result == services.UndoResult.NOT_FOUND:
        raise ApiError(404, "ticket_not_found", _("Nessun biglietto con questo codice per questo evento."))
    if result == services.UndoResult.REFUSED:
        raise ApiError(403, "forbidden", _("Un ingresso registrato da altri, o più di 15 minuti fa, lo annulla solo "
                                           "il coordinamento."))
    if result == services.UndoResult.NOT_CHECKED_IN:
        raise ApiError(409, "not_checked_in", _("Per questo biglietto non risulta alcun ingresso."))
    return {"registration": registration.pk, "name": registration.full_name}


RegistrationStatus = api_enum(Registration.Status, "RegistrationStatus")


class RegistrationFilters(Schema):
    status: RegistrationStatus | None = None


class RegistrationRowOut(Schema):
    id: int
    status: str
    ticket_code: str
    first_name: str
    last_name: str
    email: str
    organisation_name: str
    role_title: str
    accessibility_needs: str
    answers: dict[str, Any] = Field(..., description="Per id della domanda: {question, answer}.")
    newsletter_opt_in: bool
    photo_opt_in: bool
    language: str
    table: TableRef | None
    waiting_table: TableRef | None
    offer_expires_at: datetime | None
    checked_in_at: datetime | None
    created_at: datetime
    cancelled_at: datetime | None
    is_anonymised: bool

    @staticmethod
    def resolve_offer_expires_at(registration: Registration) -> datetime | None:
        return _local(registration.offer_expires_at)

    @staticmethod
    def resolve_checked_in_at(registration: Registration) -> datetime | None:
        return _local(registration.checked_in_at)

    @staticmethod
    def resolve_created_at(registration: Registration) -> datetime:
        return _local(registration.created_at)

    @staticmethod
    def resolve_cancelled_at(registration: Registration) -> datetime | None:
        return _local(registration.cancelled_at)


@router.get(
    "/events/{int:event_id}/registrations",
    response=Page[RegistrationRowOut],
    auth=BearerToken(),
    operation_id="events_list_registrations",
)
def list_registrations(request, event_id: int, filters: Query[RegistrationFilters], paging: Query[PageParams]):
    """An event's registrations in arrival order, for the territory's coordinators and their systems."""
    event = _staff_event(request, event_id, Perm.MANAGE_EVENTS)
    registrations = event.registrations.select_related("table", "waiting_table").order_by("created_at", "pk")
    if filters.status:
        registrations = registrations.filter(status=filters.status)
    return paginate(registrations, paging)
