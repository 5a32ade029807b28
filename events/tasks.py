from django.db import transaction
from django.utils import timezone
from django_tasks import task

from core.tasks import schedule

from . import notifications, services
from .models import Registration


@task()
def send_reminder(registration_id: int) -> None:
    """The day-before reminder; does nothing for a cancelled registration or a moved event."""
    registration = Registration.objects.select_related("event").filter(pk=registration_id).first()
    if registration is None or registration.status != Registration.Status.CONFIRMED or registration.reminder_sent_at:
        return
    due = registration.event.starts_at - notifications.REMINDER_BEFORE
    now = timezone.now()
    if registration.event.starts_at <= now:
        return
    with transaction.atomic():
        if due > now:  # the event moved later: try again then
            schedule(send_reminder, registration_id, at=due)
            return
        # Exactly one worker sends it, even if the task ran twice.
        if Registration.objects.filter(pk=registration_id, reminder_sent_at__isnull=True).update(reminder_sent_at=now):
            notifications._send(registration, "reminder")


@task()
def expire_offer_task(registration_id: int) -> None:
    services.expire_offer(registration_id=registration_id)


@task()
def send_registration_mail(registration_id: int, template: str) -> None:
    registration = (
        Registration.objects.select_related("event", "event__territory", "table").filter(pk=registration_id).first()
    )
    if registration is not None:
        notifications.send_now(registration, template)
