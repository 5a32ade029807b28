"""The mails an event sends. Called inside the transaction that changed the registration; the
background worker renders and sends them after commit."""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import pgettext

from core.mail import send_templated_mail
from core.tasks import enqueue_after_commit, schedule

from . import tickets
from .models import Registration

REMINDER_BEFORE = timedelta(days=1)


def _links(registration: Registration) -> dict[str, str]:
    token = registration.token
    return {
        "registration_url": settings.SITE_URL + reverse("events:registration", kwargs={"token": token}),
        "cancel_url": settings.SITE_URL + reverse("events:cancel", kwargs={"token": token}),
        "delete_url": settings.SITE_URL + reverse("events:delete_data", kwargs={"token": token}),
        # The page with the "accept" button: a link opened from a mail must not change anything (mail
        # scanners open links too), and the accepting itself is a POST.
        "accept_url": settings.SITE_URL + reverse("events:registration", kwargs={"token": token}) + "#posto-offerto",
        "event_url": settings.SITE_URL + registration.event.get_absolute_url(),
    }


def _send(registration: Registration, template: str, attachments=None, **context) -> None:
    # Mail speaks the language the person registered in, whoever triggered it.
    with translation.override(registration.language):
        send_templated_mail(
            to=registration.email,
            template=f"events/email/{template}",
            language=registration.language,
            context={"registration": registration, "event": registration.event,
                     "territory": registration.event.territory, **_links(registration), **context},
            attachments=attachments,
        )


# A mail about a state is only worth sending while the registration is still in that state.
STATUS_OF_MAIL = {
    "confirmed": Registration.Status.CONFIRMED,
    "promoted": Registration.Status.CONFIRMED,
    "granted": Registration.Status.CONFIRMED,
    "waitlisted": Registration.Status.WAITLISTED,
    "offered": Registration.Status.OFFERED,
    "cancelled": Registration.Status.CANCELLED,
}


def _mail_job(registration: Registration, template: str) -> tuple:
    """Rendering happens in the background worker: templates, the QR image and the calendar file
    cost more than the registration itself, and a rush must not wait for them."""
    from .tasks import send_registration_mail

    return (send_registration_mail, (registration.pk, template))


def _enqueue(registration: Registration, template: str) -> None:
    enqueue_after_commit(_mail_job(registration, template))


def send_now(registration: Registration, template: str) -> None:
    """Render and send one registration mail (runs in the worker)."""
    expected = STATUS_OF_MAIL.get(template)
    if registration.is_anonymised or (expected and registration.status != expected):
        return
    event = registration.event
    if template == "changed":
        if registration.status != Registration.Status.CANCELLED:
            _send(registration, template, attachments=[_calendar(registration)] if registration.holds_seat else None)
        return
    if template not in ("confirmed", "promoted", "granted"):
        _send(registration, template)
        return
    with translation.override(registration.language):
        ticket = pgettext("nome di file", "biglietto")
    ticket_name = f"{ticket}-{registration.ticket_code}.png"
    attachments = [_calendar(registration), (ticket_name, tickets.ticket_qr_png(registration), "image/png")]
    try:
        # One mail for both: a promotion is a confirmation that first says why it comes now.
        preferences = []
        if registration.table_id is None and event.table_mode == event.TableMode.RANKED:
            preferences = list(registration.preferences.select_related("table").order_by("rank"))
        _send(registration, "confirmed", attachments=attachments, promoted=template == "promoted",
              granted=template == "granted", preferences=preferences)
    finally:
        # Scheduled here rather than by the request that confirmed the seat: one task row less in the
        # rush, and the reminder is queued after the confirmation (even if sending that one failed).
        from .tasks import send_reminder

        schedule(send_reminder, registration.pk, at=event.starts_at - REMINDER_BEFORE)


def send_link_again(registration: Registration) -> None:
    """The person registered already and lost the mail: the link to their page (everything is there)."""
    _enqueue(registration, "link")


def _calendar(registration: Registration) -> tuple[str, bytes, str]:
    """The calendar entry, its file named in the registrant's language like the mail around it."""
    event = registration.event
    with translation.override(registration.language):
        name = pgettext("nome di file", "evento") + ".ics"
    return (name, tickets.ics_for_events([event], name=event.title, for_registrant=True), "text/calendar")


def registration_changed(registration: Registration, *, promoted: bool = False) -> None:
    """Queue the mail of the registration's new status (the confirmation's task schedules the reminder).
    `promoted`: the seat came from the waiting list, and the mail says so."""
    from .tasks import expire_offer_task

    status = registration.status
    if status == Registration.Status.CONFIRMED:
        _enqueue(registration, "promoted" if promoted else "confirmed")
    elif status == Registration.Status.WAITLISTED:
        _enqueue(registration, "waitlisted")
    elif status == Registration.Status.OFFERED:
        enqueue_after_commit(
            _mail_job(registration, "offered"), (expire_offer_task, (registration.pk,), registration.offer_expires_at)
        )


def granted(registration: Registration) -> None:
    """The coordination confirmed the person out of turn: no seat was freed, and the mail says so."""
    _enqueue(registration, "granted")


def table_assigned(registration: Registration) -> None:
    _enqueue(registration, "table")


def cancelled(registration: Registration) -> None:
    _enqueue(registration, "cancelled")


def details_changed(registration_ids: list[int]) -> None:
    """The event's date, times, venue or link changed: each of these registrations gets the new details."""
    from .tasks import send_registration_mail

    if registration_ids:
        enqueue_after_commit(*((send_registration_mail, (pk, "changed")) for pk in registration_ids))


def reminders_moved(registration_ids: list[int], event) -> None:
    """The event starts at another time: a reminder for each of these confirmed registrations then."""
    from .tasks import send_reminder

    at = event.starts_at - REMINDER_BEFORE
    if registration_ids:
        enqueue_after_commit(*((send_reminder, (pk,), at) for pk in registration_ids))
