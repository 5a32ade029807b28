"""The mails an event sends. Called inside the transaction that changed the registration; mail goes on commit."""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from core.mail import send_templated_mail
from core.tasks import schedule

from . import tickets
from .models import Registration

REMINDER_BEFORE = timedelta(days=1)


def _links(registration: Registration) -> dict[str, str]:
    token = registration.token
    return {
        "registration_url": settings.SITE_URL + reverse("events:registration", kwargs={"token": token}),
        "cancel_url": settings.SITE_URL + reverse("events:cancel", kwargs={"token": token}),
        "delete_url": settings.SITE_URL + reverse("events:delete_data", kwargs={"token": token}),
        "accept_url": settings.SITE_URL + reverse("events:accept_offer", kwargs={"token": token}),
        "event_url": settings.SITE_URL + registration.event.get_absolute_url(),
    }


def _send(registration: Registration, template: str, attachments=None) -> None:
    # Mail speaks the language the person registered in, whoever triggered it.
    with translation.override(registration.language):
        send_templated_mail(
            to=registration.email,
            template=f"events/email/{template}",
            context={"registration": registration, "event": registration.event,
                     "territory": registration.event.territory, **_links(registration)},
            attachments=attachments,
        )


def registration_changed(registration: Registration) -> None:
    from .tasks import expire_offer_task, send_reminder

    status = registration.status
    if status == Registration.Status.CONFIRMED:
        event = registration.event
        _send(registration, "confirmed", attachments=[
            ("evento.ics", tickets.ics_for_events([event], name=event.title), "text/calendar"),
            (f"biglietto-{registration.ticket_code}.png", tickets.ticket_qr_png(registration), "image/png"),
        ])
        schedule(send_reminder, registration.pk, at=event.starts_at - REMINDER_BEFORE)
    elif status == Registration.Status.WAITLISTED:
        _send(registration, "waitlisted")
    elif status == Registration.Status.OFFERED:
        _send(registration, "offered")
        schedule(expire_offer_task, registration.pk, at=registration.offer_expires_at)


def table_assigned(registration: Registration) -> None:
    _send(registration, "table")


def cancelled(registration: Registration) -> None:
    _send(registration, "cancelled")
