"""Registrations, waiting lists, working tables and check-in.

Every seat is taken by one conditional UPDATE ("... SET seats_taken = seats_taken + 1 WHERE
seats_taken < capacity": exactly one row changed means the seat is ours) or under the event's row
lock, and a CHECK constraint makes overbooking impossible. Freeing a seat and handing it to the next
person on the waiting list happen in the same transaction, under the event's lock, so no seat is
ever free while someone waits. Mail goes out after commit, through the background worker.
"""

from contextlib import suppress
from datetime import timedelta
from typing import Any, NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.permissions import can_undo_check_in
from core import audit, statements
from core.forms import typed_code
from core.mail import forget_mail
from core.models import AuditLog

from . import assignment, notifications
from .models import Event, Idea, IdeaVote, Question, Registration, Session, TablePreference, WorkingTable


class RegistrationError(Exception):
    code = "invalid"


class RegistrationClosed(RegistrationError):
    code = "registration_closed"


class AlreadyRegistered(RegistrationError):
    code = "already_registered"


class OfferExpired(RegistrationError):
    code = "offer_expired"


class TableFull(RegistrationError):
    code = "full"


class CancelClosed(RegistrationError):
    """The person has checked in, or the event has started: the registration stays as it is."""

    code = "cancel_closed"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def register_attendee(
    *, event: Event, data: dict[str, Any], answers: dict[str, Any] | None = None,
    preferences: list[int] | None = None, table_id: int | None = None, language: str = "it", actor=None,
) -> Registration:
    """Register a person: confirmed while seats last, then on the waiting list in arrival order.

    `preferences` ranks table ids (ranked mode); `table_id` picks a table (first-come mode).
    Raises RegistrationClosed or AlreadyRegistered; on any error nothing is stored.
    """
    if not event.is_registration_open():
        raise RegistrationClosed
    email = normalise_email(data["email"])
    fields = {
        **data, "email": email, "event": event, "privacy_acknowledged_at": timezone.now(), "language": language,
        "answers": answers or {},
    }
    try:
        registration = _register_as_expected(event, fields, preferences, table_id, actor)
        if registration is None:
            registration = _register_under_lock(event, fields, preferences, table_id, actor)
    except IntegrityError:
        if Registration.objects.live().filter(event=event, email=email).exists():
            raise AlreadyRegistered from None
        raise
    return registration


class _UnexpectedSeats(Exception):
    """The event's seats were not as `event` showed them: roll back and register under the lock."""


def _register_as_expected(event: Event, fields: dict[str, Any], preferences, table_id, actor) -> Registration | None:
    """Register with the status the event's seats showed when it was read; None if they have changed.

    In a rush every registration queues for the event's row, and it stays locked until COMMIT. So the
    status is taken from the event as read, everything is written, and the row is touched last:
    whoever holds it only has COMMIT left to do. When the seats turn out otherwise (the event filled
    meanwhile, or a cancellation freed a seat), everything is rolled back and _register_under_lock
    decides under the lock; that happens only around the moment the event fills.
    """
    expect_seat = event.seats_left > 0
    status = Registration.Status.CONFIRMED if expect_seat else Registration.Status.WAITLISTED
    if table_id and not expect_seat:
        fields = {**fields, **_chosen_table(table_id)}
    try:
        with transaction.atomic(durable=True):
            registration = statements.insert(Registration(**fields, status=status))
            _record_registration(event, registration, preferences, actor)
            if expect_seat:
                if not _take_event_seat(event):
                    raise _UnexpectedSeats
                if table_id:
                    _take_table_seat(registration, table_id)  # after the event's row: one lock order
            else:
                # A cancellation frees its seat under this lock and hands it to the waiting list
                # without seeing this uncommitted registration: under the lock we either see that
                # seat free (and go and take it) or the canceller waits for our commit and sees us.
                taken, capacity = _lock_event_seats(event)
                if taken < capacity:
                    raise _UnexpectedSeats
    except _UnexpectedSeats:
        return None
    return registration


def _register_under_lock(event: Event, fields: dict[str, Any], preferences, table_id, actor) -> Registration:
    with transaction.atomic(durable=True):
        # Inserted before the event's row is locked, as in _register_as_expected: one lock order.
        registration = statements.insert(Registration(
            **fields, **(_chosen_table(table_id) if table_id else {}), status=Registration.Status.WAITLISTED))
        took_seat = _take_event_seat(event)
        if not took_seat:
            # An UPDATE that matched nothing locked nothing: see _register_as_expected.
            Event.objects.select_for_update().only("pk").get(pk=event.pk)
            took_seat = _take_event_seat(event)
        if took_seat:
            registration.status = Registration.Status.CONFIRMED
            registration.save(update_fields=["status"])
        _record_registration(event, registration, preferences, actor)
        if table_id and took_seat:
            _take_table_seat(registration, table_id)
    return registration


def _record_registration(event: Event, registration: Registration, preferences, actor) -> None:
    """The rows that go with a new registration: table preferences, the audit row, its mails."""
    if preferences:
        TablePreference.objects.bulk_create(
            TablePreference(registration=registration, table_id=table, rank=rank)
            for rank, table in enumerate(preferences, start=1)
        )
    audit.record(actor=actor or registration.email, action=f"registration.{registration.status}", obj=registration,
                 territory=event.territory)
    notifications.registration_changed(registration)


def _chosen_table(table_id: int) -> dict[str, Any]:
    """A first-come table chosen by someone who gets no seat at the event yet: kept as the table they
    wait for, and taken for them (room permitting) once they are confirmed (_seat_at_chosen_table).
    The table's own waiting list counts only confirmed people, so nobody is seated before the event."""
    return {"waiting_table_id": table_id, "waiting_table_since": timezone.now()}


def _seat_at_chosen_table(registration: Registration) -> None:
    """Just confirmed from the waiting list: the seat at the table they chose, or their turn for it.
    The caller holds the event's row: one lock order, the event before its tables."""
    if registration.status == Registration.Status.CONFIRMED and registration.waiting_table_id and not registration.table_id:
        _take_table_seat(registration, registration.waiting_table_id)


# Event.objects.filter(pk=…, seats_taken__lt=F("capacity")).update(seats_taken=F("seats_taken") + 1),
# written out: in a rush the ORM took longer to build this statement than the database to run it.
_TAKE_EVENT_SEAT = "UPDATE events_event SET seats_taken = seats_taken + 1 WHERE id = %s AND seats_taken < capacity"


def _lock_event_seats(event: Event) -> tuple[int, int]:
    """Event.objects.select_for_update().values_list("seats_taken", "capacity").get(pk=…), written out
    for the same reason (SQLite has no FOR UPDATE: there the registration's INSERT already holds the
    database's only write lock)."""
    sql = "SELECT seats_taken, capacity FROM events_event WHERE id = %s"
    with connection.cursor() as cursor:
        cursor.execute(sql + " FOR UPDATE" if connection.features.has_select_for_update else sql, [event.pk])
        return cursor.fetchone()


def _take_event_seat(event: Event) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_EVENT_SEAT, [event.pk])
        return cursor.rowcount == 1


def _take_table_seat(registration: Registration, table_id: int) -> None:
    took = WorkingTable.objects.filter(
        pk=table_id, event_id=registration.event_id, seats_taken__lt=F("capacity")
    ).update(seats_taken=F("seats_taken") + 1)
    if took:
        registration.table_id, registration.waiting_table_id, registration.waiting_table_since = table_id, None, None
    else:
        registration.waiting_table_id, registration.waiting_table_since = table_id, timezone.now()
    registration.save(update_fields=["table", "waiting_table", "waiting_table_since"])


def _release_table_seat(registration: Registration) -> None:
    """Take the person off their table; the seat goes to the first one waiting for it, or is freed."""
    table_id = registration.table_id
    registration.table_id = None
    registration.save(update_fields=["table"])
    _pass_on_table_seat(table_id)


def _pass_on_table_seat(table_id: int) -> None:
    # The table's and the event's rows, as before, but not the territory's joined in for the audit row:
    # FOR UPDATE on it would hold up every insert that references the territory until this commits.
    table = WorkingTable.objects.select_for_update(of=("self", "event")).select_related("event__territory").get(pk=table_id)
    waiting = (
        Registration.objects.select_for_update()
        .filter(waiting_table=table, status=Registration.Status.CONFIRMED)
        .order_by("waiting_table_since", "pk")
        .first()
    )
    if waiting is None:
        WorkingTable.objects.filter(pk=table_id).update(seats_taken=F("seats_taken") - 1)
        return
    seat_left_behind = waiting.table_id
    waiting.table_id, waiting.waiting_table_id, waiting.waiting_table_since = table_id, None, None
    waiting.save(update_fields=["table", "waiting_table", "waiting_table_since"])
    audit.record(actor="sistema", action="registration.table_assigned", obj=waiting,
                 territory=table.event.territory, changes={"table": table.title})
    notifications.table_assigned(waiting)
    if seat_left_behind:
        # They waited while sitting elsewhere: that seat passes on in turn. Each step seats
        # someone at the table they were waiting for, so the chain ends.
        _pass_on_table_seat(seat_left_behind)


def _fill_free_seats(event: Event, now) -> list[Registration]:
    """Hand free seats to the waiting list in order. The caller holds the event's row lock."""
    promoted = []
    free = event.capacity - event.seats_taken
    if free <= 0:
        return promoted
    for registration in Registration.objects.select_for_update().waiting().filter(event=event)[:free]:
        if event.offer_hours:
            registration.status = Registration.Status.OFFERED
            registration.offer_expires_at = now + timedelta(hours=event.offer_hours)
        else:
            registration.status = Registration.Status.CONFIRMED
        registration.save(update_fields=["status", "offer_expires_at"])
        _seat_at_chosen_table(registration)
        audit.record(actor="sistema", action=f"registration.promoted_{registration.status}", obj=registration,
                     territory=event.territory)
        notifications.registration_changed(registration, promoted=True)
        promoted.append(registration)
    if promoted:
        Event.objects.filter(pk=event.pk).update(seats_taken=F("seats_taken") + len(promoted))
        event.seats_taken += len(promoted)
    return promoted


def _lock(registration: Registration) -> tuple[Event, Registration]:
    # Always the event first, then the registration: one lock order, no deadlocks.
    event = Event.objects.select_for_update().get(pk=registration.event_id)
    return event, Registration.objects.select_for_update().get(pk=registration.pk)


def _differs_from_stored(row, fields=None) -> bool:
    """Whether `row` (a form's unsaved instance) changes what is stored. A formset may hand back rows
    nobody edited (a date redrawn in another format): the audit log records only real changes."""
    names = [row._meta.get_field(name).attname for name in fields] if fields else [
        f.attname for f in row._meta.concrete_fields if not f.primary_key and f.name != "event"]
    stored = type(row).objects.filter(pk=row.pk).values(*names).first()
    return stored is None or any(stored[name] != getattr(row, name) for name in names)


@transaction.atomic(durable=True)
def cancel_registration(*, registration: Registration, actor=None, reason: str = "cancelled") -> Registration:
    """Cancel (idempotent); a freed seat goes at once to the next person waiting. Raises CancelClosed
    once the person has checked in or the event has started (Registration.can_cancel)."""
    event, registration = _lock(registration)
    if registration.status == Registration.Status.CANCELLED:
        return registration
    registration.event = event
    if not registration.can_cancel():
        raise CancelClosed
    held_seat = registration.holds_seat
    registration.status = Registration.Status.CANCELLED
    registration.cancelled_at = timezone.now()
    registration.offer_expires_at = None
    registration.waiting_table = None
    registration.save(update_fields=["status", "cancelled_at", "offer_expires_at", "waiting_table"])
    if registration.table_id:
        _release_table_seat(registration)
    audit.record(actor=actor or registration.email, action=f"registration.{reason}", obj=registration,
                 territory=event.territory)
    notifications.cancelled(registration)
    if held_seat:
        Event.objects.filter(pk=event.pk).update(seats_taken=F("seats_taken") - 1)
        event.seats_taken -= 1
        _fill_free_seats(event, registration.cancelled_at)
    return registration


class NotWaiting(RegistrationError):
    """Only a person on the waiting list can be confirmed out of turn."""

    code = "not_waiting"


class AlreadySeated(NotWaiting):
    """The person has a seat already (a cancellation handed it to them, or a second click)."""

    code = "already_seated"


class EventOver(NotWaiting):
    """Nobody is confirmed once the event has ended."""

    code = "event_over"


class OutOfTurn(NamedTuple):
    registration: Registration
    capacity_raised_to: int | None  # the event's new capacity, when it was full


@transaction.atomic(durable=True)
def confirm_out_of_turn(*, registration: Registration, actor) -> OutOfTurn:
    """The coordinator gives a seat to one person on the waiting list (a speaker's colleague, an
    interpreter) ahead of the others. With the event full, its capacity rises by one for them: a
    capacity is never exceeded, it is raised in the open, with the old and new figure in the audit row.
    Those still waiting keep their places."""
    event, registration = _lock(registration)
    if event.is_past:
        raise EventOver
    if registration.holds_seat:
        raise AlreadySeated
    if registration.status != Registration.Status.WAITLISTED:
        raise NotWaiting
    raised_to = event.seats_taken + 1 if event.seats_taken >= event.capacity else None
    # One statement; a new edit_version, so that an editor page drawn before the raise cannot put the
    # old capacity back when it is saved (save_event refuses it as edited meanwhile).
    Event.objects.filter(pk=event.pk).update(
        seats_taken=F("seats_taken") + 1, capacity=raised_to or F("capacity"), edit_version=F("edit_version") + 1)
    registration.status = Registration.Status.CONFIRMED
    registration.save(update_fields=["status"])
    _seat_at_chosen_table(registration)
    audit.record(actor=actor, action="registration.confirmed_out_of_turn", obj=registration, territory=event.territory,
                 changes={"capacity": [event.capacity, raised_to]} if raised_to else None)
    if raised_to:
        audit.record(actor=actor, action="event.updated", obj=event, territory=event.territory,
                     changes={"capacity": [event.capacity, raised_to]})
    notifications.granted(registration)
    return OutOfTurn(registration, raised_to)


@transaction.atomic(durable=True)
def accept_offer(*, registration: Registration) -> Registration:
    event, registration = _lock(registration)
    if registration.status == Registration.Status.CONFIRMED:
        return registration
    if registration.status != Registration.Status.OFFERED or registration.offer_expires_at <= timezone.now():
        raise OfferExpired
    registration.status = Registration.Status.CONFIRMED
    registration.offer_expires_at = None
    registration.save(update_fields=["status", "offer_expires_at"])
    _seat_at_chosen_table(registration)
    audit.record(actor=registration.email, action="registration.offer_accepted", obj=registration,
                 territory=event.territory)
    notifications.registration_changed(registration)
    return registration


def expire_offer(*, registration_id: int, now=None) -> bool:
    """Pass an unanswered offer on to the next person; True if it had expired."""
    now = now or timezone.now()
    registration = Registration.objects.filter(
        pk=registration_id, status=Registration.Status.OFFERED, offer_expires_at__lte=now
    ).first()
    if registration is None:
        return False
    with transaction.atomic(durable=True):
        event, registration = _lock(registration)
        if registration.status != Registration.Status.OFFERED or registration.offer_expires_at > now:
            return False
        registration.status = Registration.Status.CANCELLED
        registration.cancelled_at = now
        registration.waiting_table = None
        registration.save(update_fields=["status", "cancelled_at", "waiting_table"])
        audit.record(actor="sistema", action="registration.offer_expired", obj=registration, territory=event.territory)
        Event.objects.filter(pk=event.pk).update(seats_taken=F("seats_taken") - 1)
        event.seats_taken -= 1
        _fill_free_seats(event, now)
    return True


@transaction.atomic(durable=True)
def choose_table(*, registration: Registration, table: WorkingTable) -> Registration:
    """First-come tables: take a seat at `table`, or wait for it (keeping any current seat until then)."""
    event, registration = _lock(registration)
    if registration.status != Registration.Status.CONFIRMED:
        raise RegistrationError
    if registration.table_id == table.pk:
        return registration
    previous = registration.table_id
    took = WorkingTable.objects.filter(pk=table.pk, event=event, seats_taken__lt=F("capacity")).update(
        seats_taken=F("seats_taken") + 1
    )
    if not took:
        registration.waiting_table, registration.waiting_table_since = table, timezone.now()
        registration.save(update_fields=["waiting_table", "waiting_table_since"])
        audit.record(actor=registration.email, action="registration.table_waitlisted", obj=registration,
                     territory=event.territory, changes={"table": table.title})
        return registration
    if previous:
        registration.table_id = previous
        _release_table_seat(registration)
    registration.table, registration.waiting_table, registration.waiting_table_since = table, None, None
    registration.save(update_fields=["table", "waiting_table", "waiting_table_since"])
    audit.record(actor=registration.email, action="registration.table_chosen", obj=registration,
                 territory=event.territory, changes={"table": table.title})
    return registration


class CheckInResult:
    CHECKED_IN = "checked_in"
    ALREADY = "already_checked_in"
    NOT_CONFIRMED = "not_confirmed"


def check_in(*, event: Event, ticket_code: str, actor) -> tuple[str, Registration | None]:
    """Mark a ticket present. A second scan, by anyone, answers ALREADY and counts nothing."""
    code = typed_code(ticket_code)
    registration = Registration.objects.select_related("table").filter(event=event, ticket_code=code).first()
    if registration is None:
        return CheckInResult.NOT_CONFIRMED, None
    if registration.status != Registration.Status.CONFIRMED:
        return CheckInResult.NOT_CONFIRMED, registration
    with transaction.atomic(durable=True):
        # Several staff may scan the same ticket at once: exactly one UPDATE changes the row. The status
        # is in the condition too: a cancellation committed since the read above leaves it unchanged.
        changed = Registration.objects.filter(
            pk=registration.pk, checked_in_at__isnull=True, status=Registration.Status.CONFIRMED
        ).update(checked_in_at=timezone.now(), checked_in_by=actor)
        if changed:
            registration.refresh_from_db(fields=["checked_in_at", "checked_in_by"])
            audit.record(actor=actor, action="registration.checked_in", obj=registration, territory=event.territory)
    if not changed:
        registration.refresh_from_db(fields=["checked_in_at", "checked_in_by", "status"])
        if registration.checked_in_at is None:
            return CheckInResult.NOT_CONFIRMED, registration
        return CheckInResult.ALREADY, registration
    return CheckInResult.CHECKED_IN, registration


def send_registration_link(*, registration: Registration) -> None:
    """Mail the person the link to their registration page again (they lost the confirmation)."""
    with transaction.atomic(durable=True):
        notifications.send_link_again(registration)


class UndoResult:
    UNDONE = "undone"
    NOT_CHECKED_IN = "not_checked_in"
    REFUSED = "refused"  # someone else's check-in, or too old: the coordination's to correct
    NOT_FOUND = "not_found"


def take_back_check_in(*, event: Event, ticket_code: str, actor) -> tuple[str, Registration | None]:
    """The door's undo, by the ticket's code (the page and the API): a UndoResult and the registration."""
    code = typed_code(ticket_code)
    registration = Registration.objects.filter(event=event, ticket_code=code).first() if code else None
    if registration is None:
        return UndoResult.NOT_FOUND, None
    if registration.checked_in_at and not can_undo_check_in(actor, registration):
        return UndoResult.REFUSED, registration
    if undo_check_in(registration=registration, actor=actor):
        return UndoResult.UNDONE, registration
    return UndoResult.NOT_CHECKED_IN, registration


def undo_check_in(*, registration: Registration, actor) -> bool:
    """Take back a check-in made by mistake. False when the person was not checked in, or their data was
    erased (nothing changes). Who may is accounts.permissions.can_undo_check_in's to say."""
    with transaction.atomic(durable=True):
        changed = Registration.objects.filter(
            pk=registration.pk, checked_in_at__isnull=False, is_anonymised=False,
        ).update(checked_in_at=None, checked_in_by=None)
        if changed:
            audit.record(actor=actor, action="registration.check_in_undone", obj=registration,
                         territory=registration.event.territory)
    return bool(changed)


ANONYMISED = "dati cancellati"


def _anonymise(registration: Registration) -> None:
    # Keep what statistics need (status, attendance, organisation, table); drop who the person is:
    # from the registration, from the copies of the mails written to them, from the audit log's labels.
    forget_mail(to=registration.email, mentioning=str(registration.token))
    about = AuditLog.objects.filter(object_type=Registration._meta.label_lower, object_id=str(registration.pk))
    about.update(object_repr=ANONYMISED)
    about.filter(actor__isnull=True).update(actor_label=ANONYMISED)  # the person's own actions, by email
    registration.first_name = "—"
    registration.last_name = ""
    registration.email = f"anonimo-{registration.pk}@invalid"
    registration.role_title = ""
    registration.accessibility_needs = ""
    registration.answers = {}
    registration.newsletter_opt_in = registration.photo_opt_in = False
    registration.is_anonymised = True
    registration.save()


def delete_registration_data(*, registration: Registration) -> None:
    """The person's own "delete my data" link: free the seat, then erase the personal data.

    Once the event has started (or the person checked in) the seat stays as it was: what statistics
    keep of an anonymised registration (status, attendance) must stay true.
    """
    if registration.can_cancel():
        # If the event starts, or a scan comes, in between: erase without cancelling.
        with suppress(CancelClosed):
            registration = cancel_registration(registration=registration, reason="deleted_by_person")
    with transaction.atomic(durable=True):
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        audit.record(actor="interessato", action="registration.data_deleted", obj=registration,
                     territory=registration.event.territory)
        _anonymise(registration)


def purge_expired_registrations(*, now=None) -> int:
    """Anonymise the registrations of events past their retention period. Returns how many."""
    now = now or timezone.now()
    count = 0
    for event in Event.objects.filter(registrations__is_anonymised=False).distinct().select_related("territory"):
        if event.purge_after > now:
            continue
        with transaction.atomic(durable=True):
            registrations = list(event.registrations.select_for_update().filter(is_anonymised=False))
            for registration in registrations:
                _anonymise(registration)
            audit.record(actor="sistema", action="event.registrations_purged", obj=event, territory=event.territory,
                         changes={"registrations": len(registrations)})
        count += len(registrations)
    return count


@transaction.atomic(durable=True)
def assign_tables(*, event: Event, actor) -> assignment.Assignment:
    """Seat every confirmed person by the optimal assignment of their ranked preferences.

    Replaces the current seating; whoever gets no seat waits for their first choice.
    """
    event = Event.objects.select_for_update().get(pk=event.pk)
    tables = list(WorkingTable.objects.select_for_update().filter(event=event))
    registrations = list(
        Registration.objects.select_for_update().filter(event=event, status=Registration.Status.CONFIRMED)
    )
    ranked: dict[int, list[int]] = {r.pk: [] for r in registrations}
    for preference in TablePreference.objects.filter(registration__in=registrations).order_by("rank"):
        ranked[preference.registration_id].append(preference.table_id)
    result = assignment.assign(ranked, {table.pk: table.capacity for table in tables})
    now = timezone.now()
    for registration in registrations:
        registration.table_id = result.seats.get(registration.pk)
        first_choice = ranked[registration.pk][0] if ranked[registration.pk] else None
        waits = registration.table_id is None and first_choice is not None
        registration.waiting_table_id = first_choice if waits else None
        registration.waiting_table_since = now if waits else None
    Registration.objects.bulk_update(registrations, ["table", "waiting_table", "waiting_table_since"])
    for table in tables:
        table.seats_taken = sum(1 for seat in result.seats.values() if seat == table.pk)
    WorkingTable.objects.bulk_update(tables, ["seats_taken"])
    audit.record(actor=actor, action="event.tables_assigned", obj=event, territory=event.territory,
                 changes={"seated": len(result.seats), "satisfied": result.satisfied, "unseated": len(result.unseated)})
    return result


@transaction.atomic(durable=True)
def move_to_table(*, registration: Registration, table: WorkingTable | None, actor) -> Registration:
    """The coordinator's adjustment by hand: a seat at `table` (if free), or no table."""
    event, registration = _lock(registration)
    if registration.status != Registration.Status.CONFIRMED:
        raise RegistrationError
    if table is not None and registration.table_id == table.pk:
        return registration
    if table is not None:
        took = WorkingTable.objects.filter(pk=table.pk, event=event, seats_taken__lt=F("capacity")).update(
            seats_taken=F("seats_taken") + 1
        )
        if not took:
            raise TableFull
    if registration.table_id:
        _release_table_seat(registration)
    registration.table = table
    registration.waiting_table = registration.waiting_table_since = None
    registration.save(update_fields=["table", "waiting_table", "waiting_table_since"])
    audit.record(actor=actor, action="registration.table_moved", obj=registration, territory=event.territory,
                 changes={"table": table.title if table else None})
    return registration


@transaction.atomic(durable=True)
def notify_tables(*, event: Event, actor) -> int:
    """Email every confirmed person their table. Returns how many were emailed."""
    seated = list(
        Registration.objects.select_related("event", "event__territory", "table")
        .filter(event=event, status=Registration.Status.CONFIRMED, table__isnull=False)
    )
    for registration in seated:
        notifications.table_assigned(registration)
    audit.record(actor=actor, action="event.tables_notified", obj=event, territory=event.territory,
                 changes={"emails": len(seated)})
    return len(seated)


# The event editor --------------------------------------------------------------------------------

# What the coordinator's editor may change. Counters (seats_taken) and the facilitator's summary are
# never written from a form: they change only under their own locks, elsewhere.
EVENT_FIELDS = [
    "title", "slug", "summary", "description", "mode", "venue_name", "venue_address", "latitude", "longitude",
    "online_url", "starts_at", "ends_at", "capacity", "registration_opens_at", "registration_closes_at",
    "offer_hours", "table_mode", "retention_days", "is_published",
]
TABLE_FIELDS = ["title", "description", "capacity", "facilitator", "position"]
# What a registrant plans their day around: a change is mailed to them with the new calendar entry.
PRACTICAL_FIELDS = ["starts_at", "ends_at", "mode", "venue_name", "venue_address", "online_url"]


class EventSaved(NamedTuple):
    event: Event
    promoted: int  # people given a seat from the waiting list by a larger capacity
    informed: int  # registrants mailed about a change of date, times, venue or link


class EventNotSaved(Exception):
    """The edit breaks a rule that only holds under the event's lock; nothing was saved.

    `problems` lists (event or table, code, count): "edited_meanwhile" (count = the event's current
    edit version), "capacity_below_taken" (count = seats taken),
    "table_in_use" (people seated or waiting) and "table_has_ideas" for a table being deleted.
    """

    def __init__(self, problems: list[tuple[Event | WorkingTable, str, int]]):
        super().__init__(problems)
        self.problems = problems


def save_event(
    *, territory, event: Event | None, data: dict[str, Any], organisers, sessions: list[Session],
    tables: list[WorkingTable], questions: list[Question], deleted: list[Session | WorkingTable | Question],
    actor, notify_registrants: bool = True, edit_version: int | None = None,
) -> EventSaved:
    """Create (`event=None`) or update an event with its programme, tables and questions.

    `sessions`, `tables` and `questions` are the new or changed rows, `deleted` the rows to remove.
    Seats are checked under the event's and tables' row locks: a capacity never drops below the
    seats already taken, and new seats go at once to the waiting lists. A new date, time, venue or
    link of an event not yet over is mailed to everyone registered (unless `notify_registrants` is
    false) and moves their reminders. `edit_version` is the version the editor's form was drawn
    from: if the event has been saved since, nothing is saved ("edited_meanwhile"). Raises EventNotSaved.
    """
    now = timezone.now()
    with transaction.atomic(durable=True):
        if event is None:
            event = Event.objects.create(territory=territory, **data)
            changes: dict[str, Any] = {"created": True}
            old_capacity = event.capacity
            locked_tables: dict[int, WorkingTable] = {}
        else:
            # The event first, then its tables: the lock order of every seat-moving service.
            event = Event.objects.select_for_update().get(pk=event.pk)
            if edit_version is not None and edit_version != event.edit_version:
                raise EventNotSaved([(event, "edited_meanwhile", event.edit_version)])
            locked_tables = {t.pk: t for t in WorkingTable.objects.select_for_update().filter(event=event)}
            _check_seats(event, data, tables, deleted, locked_tables)
            old_capacity = event.capacity
            changes = {}
            for field, value in data.items():
                old = getattr(event, field)
                if old != value:
                    changes[field] = [audit.plain(old), audit.plain(value)]
                    setattr(event, field, value)
            if any(field in changes for field in PRACTICAL_FIELDS):
                event.calendar_sequence += 1
                event.details_changed_at = now
                changes["calendar_sequence"] = event.calendar_sequence
            if changes:
                event.save(update_fields=list(changes) + (["details_changed_at"] if "calendar_sequence" in changes else []))
        old_organisers = sorted(str(o) for o in event.organisers.all())
        new_organisers = sorted(str(o) for o in organisers)
        if old_organisers != new_organisers:
            event.organisers.set(organisers)
            changes["organisers"] = [old_organisers, new_organisers]
        for row in deleted:
            changes.setdefault(f"{row._meta.model_name}_deleted", []).append(str(row))
            row.delete()
        for row in [*sessions, *questions]:
            if row.pk is None or _differs_from_stored(row):
                changes.setdefault(f"{row._meta.model_name}_{'changed' if row.pk else 'added'}", []).append(str(row))
            row.event = event
            row.save()
        for table in tables:
            table.event = event
            if table.pk is None:
                table.save()
                changes.setdefault("workingtable_added", []).append(str(table))
                continue
            if _differs_from_stored(table, TABLE_FIELDS):
                changes.setdefault("workingtable_changed", []).append(str(table))
            table.save(update_fields=TABLE_FIELDS)
            locked = locked_tables[table.pk]
            if table.capacity > locked.capacity:
                locked.capacity = table.capacity
                _seat_waiting_for_table(locked)
        promoted = _fill_free_seats(event, now) if event.capacity > old_capacity else []
        if promoted:
            changes["promoted_from_waiting_list"] = len(promoted)
        informed = 0
        if "calendar_sequence" in changes and event.ends_at > now:
            informed = _details_changed(event, moved="starts_at" in changes, notify=notify_registrants)
            if informed:
                changes["registrants_informed"] = informed
        if changes:
            audit.record(actor=actor, action="event.created" if "created" in changes else "event.updated",
                         obj=event, territory=event.territory, changes=changes)
            Event.objects.filter(pk=event.pk).update(edit_version=F("edit_version") + 1)
            event.edit_version += 1
    return EventSaved(event, len(promoted), informed)


def _details_changed(event: Event, *, moved: bool, notify: bool) -> int:
    """Mail the new details to everyone still registered; a new start time moves their reminders.
    The caller holds the event's lock, so nobody registers or leaves meanwhile."""
    live = Registration.objects.live().filter(event=event, is_anonymised=False)
    if moved:
        # A reminder sent for the old day says nothing of the new one; the reminder task itself puts
        # off an early run, and this schedules one for a start brought forward.
        confirmed = list(live.filter(status=Registration.Status.CONFIRMED).values_list("pk", flat=True))
        Registration.objects.filter(pk__in=confirmed).update(reminder_sent_at=None)
        notifications.reminders_moved(confirmed, event)
    if not notify:
        return 0
    ids = list(live.values_list("pk", flat=True))
    notifications.details_changed(ids)
    return len(ids)


def _check_seats(event: Event, data: dict[str, Any], tables: list[WorkingTable], deleted: list,
                 locked_tables: dict[int, WorkingTable]) -> None:
    problems: list[tuple[Event | WorkingTable, str, int]] = []
    if data["capacity"] < event.seats_taken:
        problems.append((event, "capacity_below_taken", event.seats_taken))
    for table in tables:
        if table.pk and table.capacity < locked_tables[table.pk].seats_taken:
            problems.append((table, "capacity_below_taken", locked_tables[table.pk].seats_taken))
    for table in (row for row in deleted if isinstance(row, WorkingTable)):
        people = locked_tables[table.pk].seats_taken + Registration.objects.live().filter(waiting_table=table).count()
        if people:
            problems.append((table, "table_in_use", people))
        ideas = Idea.objects.filter(table=table).count()
        if ideas:
            problems.append((table, "table_has_ideas", ideas))
    if problems:
        raise EventNotSaved(problems)


def _seat_waiting_for_table(table: WorkingTable) -> None:
    """Give a table's new seats to the people waiting for it, in order. The caller holds the locks."""
    # Re-read: seating someone from another table's waiting list may have moved this count already.
    table.seats_taken = WorkingTable.objects.values_list("seats_taken", flat=True).get(pk=table.pk)
    free = table.capacity - table.seats_taken
    if free <= 0:
        return
    waiting = list(
        Registration.objects.select_for_update()
        .filter(waiting_table=table, status=Registration.Status.CONFIRMED)
        .order_by("waiting_table_since", "pk")[:free]
    )
    for registration in waiting:
        if registration.table_id:
            # They kept a seat elsewhere while waiting for this table: it goes to whoever waits there.
            _release_table_seat(registration)
        registration.table, registration.waiting_table, registration.waiting_table_since = table, None, None
        registration.save(update_fields=["table", "waiting_table", "waiting_table_since"])
        audit.record(actor="sistema", action="registration.table_assigned", obj=registration,
                     territory=registration.event.territory, changes={"table": table.title})
        notifications.table_assigned(registration)
    if waiting:
        WorkingTable.objects.filter(pk=table.pk).update(seats_taken=F("seats_taken") + len(waiting))


# Ideas boards of the working tables ---------------------------------------------------------------


class IdeaRefused(Exception):
    code = "refused"


class NotAParticipant(IdeaRefused):
    code = "not_confirmed"


class BoardClosed(IdeaRefused):
    code = "board_closed"


class OwnIdea(IdeaRefused):
    """Votes say which ideas others find convincing: an author's own vote would count for nothing else."""

    code = "own_idea"


def is_board_open(event: Event, now=None) -> bool:
    """Participants post and vote until the event ends; then the board is the table's record."""
    return (now or timezone.now()) < event.ends_at


def _check_participant(registration: Registration, table: WorkingTable) -> None:
    if registration.event_id != table.event_id or registration.status != Registration.Status.CONFIRMED:
        raise NotAParticipant
    if not is_board_open(table.event):
        raise BoardClosed


def post_idea(*, table: WorkingTable, registration: Registration, text: str) -> Idea:
    """Post an idea on a table's board. Only a confirmed registration of the table's event may."""
    text = text.strip()
    if not text or len(text) > Idea.TEXT_MAX_LENGTH:
        raise IdeaRefused
    _check_participant(registration, table)
    with transaction.atomic(durable=True):
        return Idea.objects.create(table=table, registration=registration, text=text)


def vote_for_idea(*, idea: Idea, registration: Registration, vote: bool) -> bool:
    """Set this person's vote for `idea` (True: votes for it). Returns whether they now vote for it.

    The request carries the state it wants rather than "toggle": a double click or a second tab
    repeats the same wish instead of undoing it. Two identical requests at once both reach the
    INSERT; the unique constraint lets one through, and the other finds that vote and stops.
    """
    _check_participant(registration, idea.table)
    with transaction.atomic(durable=True):
        if not Idea.objects.filter(pk=idea.pk, is_hidden=False).exists():
            raise IdeaRefused
        if vote and idea.registration_id == registration.pk:
            raise OwnIdea
        if vote:
            IdeaVote.objects.get_or_create(idea=idea, registration=registration)
        else:
            IdeaVote.objects.filter(idea=idea, registration=registration).delete()
    return vote


@transaction.atomic(durable=True)
def set_idea_hidden(*, idea: Idea, hidden: bool, actor) -> Idea:
    """The coordinator hides an inappropriate idea (or shows it again). Idempotent."""
    changed = Idea.objects.filter(pk=idea.pk, is_hidden=not hidden).update(
        is_hidden=hidden, hidden_by=actor if hidden else None
    )
    if changed:
        idea.is_hidden = hidden
        audit.record(actor=actor, action="idea.hidden" if hidden else "idea.shown", obj=idea,
                     territory=idea.table.event.territory, changes={"table": idea.table.title, "text": idea.text})
    return idea


@transaction.atomic(durable=True)
def write_table_summary(*, table: WorkingTable, summary: str, actor) -> WorkingTable:
    """The facilitator's (or a coordinator's) summary of what the table concluded."""
    table = WorkingTable.objects.select_for_update(of=("self",)).select_related("event__territory").get(pk=table.pk)
    summary = summary.strip()
    if summary != table.summary:
        audit.record(actor=actor, action="table.summary_written", obj=table, territory=table.event.territory,
                     changes={"summary": [table.summary, summary]})
        table.summary = summary
        table.save(update_fields=["summary"])
    return table
