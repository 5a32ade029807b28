import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from core.models import AuditLog, SentMail
from events import services
from events.models import Event, Question, Registration

from .factories import make_event, person

pytestmark = pytest.mark.django_db


def register_url(event):
    return reverse("events:register", kwargs={"territory": event.territory.slug, "slug": event.slug})


def form_data(n=1, **extra):
    return {**person(n), "privacy_acknowledged": "on", **extra}


def test_registration_confirms_and_mails_a_ticket_with_calendar_and_qr(client, territory, django_capture_on_commit_callbacks):
    event = make_event(territory, capacity=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(register_url(event), form_data(1, email="  Persona1@Example.org "))
    registration = Registration.objects.get()
    assert response.status_code == 302
    assert response["Location"] == registration.get_absolute_url()
    assert registration.status == "confirmed"
    assert registration.email == "persona1@example.org"
    assert not registration.newsletter_opt_in and not registration.photo_opt_in
    [message] = mail.outbox
    assert event.title in message.subject
    assert registration.ticket_code in message.body
    names = {name for name, _content, _type in message.attachments}
    assert names == {"evento.ics", f"biglietto-{registration.ticket_code}.png"}
    ics = next(content for name, content, _type in message.attachments if name == "evento.ics")
    assert "BEGIN:VEVENT" in (ics.decode() if isinstance(ics, bytes) else ics)
    page = client.get(registration.get_absolute_url()).content.decode()
    assert registration.ticket_code in page and "<svg" in page
    assert AuditLog.objects.filter(action="registration.confirmed", object_id=str(registration.pk)).exists()


def test_an_english_registrant_gets_attachments_named_in_english(client, territory, django_capture_on_commit_callbacks):
    event = make_event(territory, capacity=5)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(register_url(event), form_data(1), HTTP_ACCEPT_LANGUAGE="en")
    registration = Registration.objects.get()
    assert registration.language == "en"
    [message] = mail.outbox
    assert {name for name, _content, _type in message.attachments} == {"event.ics",
                                                                       f"ticket-{registration.ticket_code}.png"}


def test_errors_are_shown_next_to_fields_and_nothing_is_stored(client, territory):
    event = make_event(territory)
    Question.objects.create(event=event, label="Usate già lo smart working?", kind="yes_no", is_required=True)
    response = client.post(register_url(event), {"first_name": "Anna", "email": "non-una-email"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_email-error"' in html and 'id="id_last_name-error"' in html
    assert "informativa privacy" in html
    assert 'value="Anna"' in html  # what was typed stays
    assert Registration.objects.count() == 0


def test_english_errors_for_an_english_visitor(client, territory):
    event = make_event(territory)
    response = client.post(register_url(event), {"first_name": "Anna"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422
    assert "acknowledge the privacy notice" in response.content.decode()


def test_the_same_email_twice_is_refused_with_a_clear_message(client, territory):
    event = make_event(territory)
    client.post(register_url(event), form_data(1))
    response = client.post(register_url(event), form_data(1, email="PERSONA1@example.org"))
    assert response.status_code == 409
    assert "già iscritta" in response.content.decode()
    assert Registration.objects.count() == 1


def test_someone_registered_already_can_have_their_link_mailed_again(client, territory, settings,
                                                                    django_capture_on_commit_callbacks):
    settings.RATELIMIT_ENABLED = True
    cache.clear()
    event = make_event(territory)
    registration = services.register_attendee(event=event, data=person(1))
    answer = client.post(register_url(event), form_data(1, email="PERSONA1@example.org")).content.decode()
    resend = reverse("events:resend_link", kwargs={"territory": "milano", "slug": event.slug})
    assert f'action="{resend}"' in answer and 'name="email" value="PERSONA1@example.org"' in answer
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(resend, {"email": "persona1@example.org"}, follow=True).content.decode()
    assert "gli abbiamo rimandato il link" in done
    [message] = mail.outbox
    assert message.to == ["persona1@example.org"] and str(registration.token) in message.body
    # Not a way to flood a mailbox, and the same answer for an address that is not registered.
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):
            client.post(resend, {"email": "persona1@example.org"})
        unknown = client.post(resend, {"email": "nessuno@example.org"}, follow=True).content.decode()
    assert "gli abbiamo rimandato il link" in unknown
    assert len(mail.outbox) == 3  # RESEND_PER_EMAIL_PER_DAY
    assert Registration.objects.count() == 1
    cache.clear()


def test_when_full_people_join_the_waiting_list_in_order(client, territory):
    event = make_event(territory, capacity=1)
    client.post(register_url(event), form_data(1))
    client.post(register_url(event), form_data(2))
    client.post(register_url(event), form_data(3))
    statuses = dict(Registration.objects.values_list("email", "status"))
    assert statuses == {"persona1@example.org": "confirmed", "persona2@example.org": "waitlisted",
                        "persona3@example.org": "waitlisted"}
    third = Registration.objects.get(email="persona3@example.org")
    assert "posto n. 2" in client.get(third.get_absolute_url()).content.decode()


def test_cancel_link_asks_first_then_frees_the_seat_for_the_next_in_line(client, territory, django_capture_on_commit_callbacks):
    event = make_event(territory, capacity=1)
    first = services.register_attendee(event=event, data=person(1))
    second = services.register_attendee(event=event, data=person(2))
    cancel_url = reverse("events:cancel", kwargs={"token": first.token})

    assert client.get(cancel_url).status_code == 200  # a mail scanner opening the link
    first.refresh_from_db()
    assert first.status == "confirmed"

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(cancel_url)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("cancelled", "confirmed")
    assert sorted(m.to[0] for m in mail.outbox) == ["persona1@example.org", "persona2@example.org"]
    # The person promoted learns why a confirmation comes now, with the ticket and calendar as usual.
    [promotion] = [m for m in mail.outbox if m.to == ["persona2@example.org"]]
    assert promotion.subject.startswith("Si è liberato un posto per") and "eri in lista d'attesa" in promotion.body
    assert second.ticket_code in promotion.body and len(promotion.attachments) == 2
    event.refresh_from_db()
    assert event.seats_taken == 1


def test_an_offer_can_be_accepted_before_it_expires_and_passes_on_after(territory, django_capture_on_commit_callbacks):
    event = make_event(territory, capacity=1, offer_hours=12)
    first = services.register_attendee(event=event, data=person(1))
    second = services.register_attendee(event=event, data=person(2))
    third = services.register_attendee(event=event, data=person(3))
    services.cancel_registration(registration=first)
    second.refresh_from_db()
    assert second.status == "offered"
    assert second.offer_expires_at > timezone.now() + timedelta(hours=11)

    # Nobody answers: the offer expires and goes to the third person.
    assert services.expire_offer(registration_id=second.pk, now=second.offer_expires_at + timedelta(seconds=1))
    second.refresh_from_db()
    third.refresh_from_db()
    assert (second.status, third.status) == ("cancelled", "offered")
    with pytest.raises(services.OfferExpired):
        services.accept_offer(registration=second)

    services.accept_offer(registration=third)
    third.refresh_from_db()
    assert third.status == "confirmed"
    event.refresh_from_db()
    assert event.seats_taken == 1


def test_registration_closed_outside_its_window(client, territory):
    event = make_event(territory, registration_closes_at=timezone.now() - timedelta(minutes=1))
    response = client.post(register_url(event), form_data(1))
    assert response.status_code == 409
    assert Registration.objects.count() == 0
    with pytest.raises(services.RegistrationClosed):
        services.register_attendee(event=event, data=person(1))


def test_the_event_page_says_until_when_registration_is_open_and_when_it_closed(client, territory):
    from django.utils.formats import date_format

    deadline = timezone.localtime(timezone.now() + timedelta(days=2)).replace(second=0, microsecond=0)
    event = make_event(territory, registration_closes_at=deadline)
    page = client.get(event.get_absolute_url()).content.decode()
    assert f"Iscrizioni aperte fino al <time datetime=\"{deadline.isoformat()}\">{date_format(deadline, 'j F Y, H:i')}</time>." in page

    closed = timezone.localtime(timezone.now() - timedelta(hours=3)).replace(second=0, microsecond=0)
    event.registration_closes_at = closed
    event.save()
    cache.clear()  # the page cache keeps an anonymous page a minute
    page = client.get(event.get_absolute_url()).content.decode()
    assert f"Le iscrizioni si sono chiuse il <time datetime=\"{closed.isoformat()}\">{date_format(closed, 'j F Y, H:i')}</time>." in page
    assert "Le iscrizioni non sono aperte." not in page


def test_unpublished_events_are_not_found(client, territory):
    event = make_event(territory, is_published=False)
    assert client.get(event.get_absolute_url()).status_code == 404
    assert client.post(register_url(event), form_data(1)).status_code == 404


def test_delete_my_data_frees_the_seat_and_erases_the_person(client, territory, django_capture_on_commit_callbacks):
    event = make_event(territory, capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.register_attendee(event=event, data=person(1, accessibility_needs="Sedia a rotelle"))
        other_event = make_event(territory, capacity=5)
        kept = services.register_attendee(event=other_event, data=person(1))  # same person, another event
    second = services.register_attendee(event=event, data=person(2))
    mails = list(SentMail.objects.filter(to="persona1@example.org", body_text__contains=str(first.token)))
    assert mails and client.get(mails[0].get_absolute_url()).status_code == 200

    client.post(reverse("events:delete_data", kwargs={"token": first.token}))
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.is_anonymised and first.email.endswith("@invalid") and first.accessibility_needs == ""
    assert second.status == "confirmed"
    assert client.get(first.get_absolute_url()).status_code == 404
    # The copies of the mails written about it are gone too (their web pages with them), the other
    # event's stay; the audit log keeps what happened, not who it was.
    assert client.get(mails[0].get_absolute_url()).status_code == 404
    assert not SentMail.objects.filter(body_text__contains=str(first.token)).exists()
    assert SentMail.objects.filter(body_text__contains=str(kept.token)).exists()
    about = AuditLog.objects.filter(object_type="events.registration", object_id=str(first.pk))
    assert about.count() >= 2
    assert not about.filter(object_repr__contains="Persona").exists()
    assert not about.filter(actor_label="persona1@example.org").exists()


def test_purge_anonymises_registrations_past_the_retention_period(territory):
    past = make_event(territory, starts_at=timezone.now() - timedelta(days=200), retention_days=30)
    recent = make_event(territory, starts_at=timezone.now() - timedelta(days=5), retention_days=30)
    Registration.objects.create(event=past, status="confirmed", privacy_acknowledged_at=timezone.now(), **person(1))
    Registration.objects.create(event=recent, status="confirmed", privacy_acknowledged_at=timezone.now(), **person(2))
    assert services.purge_expired_registrations() == 1
    assert Registration.objects.get(event=past).is_anonymised
    assert not Registration.objects.get(event=recent).is_anonymised
    assert services.purge_expired_registrations() == 0


def test_no_cancelling_once_checked_in_or_once_the_event_has_started(client, territory, personas):
    event = make_event(territory, capacity=1)
    present = services.register_attendee(event=event, data=person(1))
    waiting = services.register_attendee(event=event, data=person(2))
    assert services.check_in(event=event, ticket_code=present.ticket_code, actor=personas["coordinator"])[0] == "checked_in"
    cancel_url = reverse("events:cancel", kwargs={"token": present.token})

    assert "Annulla l&#x27;iscrizione" not in client.get(present.get_absolute_url()).content.decode()
    asked = client.get(cancel_url).content.decode()
    assert "non si può più annullare" in asked and "Sì, annulla" not in asked
    refused = client.post(cancel_url)
    assert refused.status_code == 409 and "Il tuo ingresso è registrato" in refused.content.decode()
    api = client.post(f"/api/v1/registrations/{present.token}/cancel")
    assert api.status_code == 409 and api.json()["code"] == "cancel_closed"
    present.refresh_from_db()
    waiting.refresh_from_db()
    event.refresh_from_db()
    assert (present.status, waiting.status, event.seats_taken) == ("confirmed", "waitlisted", 1)

    # Nobody checked in, but the event has begun: the seat stays, and so does the no-show's status.
    started = make_event(territory, capacity=5, starts_at=timezone.now() + timedelta(days=1))
    absent = services.register_attendee(event=started, data=person(3))
    started.starts_at = timezone.now() - timedelta(hours=1)
    started.save(update_fields=["starts_at"])
    refused = client.post(reverse("events:cancel", kwargs={"token": absent.token}))
    assert refused.status_code == 409 and "evento è iniziato: l" in refused.content.decode()
    absent.refresh_from_db()
    assert absent.status == "confirmed"
    # Deleting one's data still works: the person is erased, the statistics keep their status.
    services.delete_registration_data(registration=absent)
    absent.refresh_from_db()
    assert absent.is_anonymised and absent.status == "confirmed"
    assert AuditLog.objects.filter(action="registration.data_deleted", object_id=str(absent.pk)).exists()

    # A place on the waiting list holds no attendance: it can be given up at any time, and erasing
    # one's data takes it out of the queue, so no seat can later go to an erased person.
    full = make_event(territory, capacity=1, starts_at=timezone.now() + timedelta(days=1))
    services.register_attendee(event=full, data=person(4))
    queued = services.register_attendee(event=full, data=person(5))
    other = services.register_attendee(event=full, data=person(6))
    Event.objects.filter(pk=full.pk).update(starts_at=timezone.now() - timedelta(hours=1))
    assert client.post(reverse("events:cancel", kwargs={"token": queued.token})).status_code == 302
    services.delete_registration_data(registration=Registration.objects.get(pk=other.pk))
    assert set(Registration.objects.filter(pk__in=[queued.pk, other.pk]).values_list("status", flat=True)) == {"cancelled"}


def test_a_ticket_cancelled_before_the_scan_lands_is_not_checked_in(territory, personas, monkeypatch):
    event = make_event(territory, capacity=5)
    registration = services.register_attendee(event=event, data=person(1))
    # The staff page read the ticket while it was confirmed; the cancellation commits before the UPDATE.
    stale = Registration.objects.get(pk=registration.pk)
    Registration.objects.filter(pk=registration.pk).update(status=Registration.Status.CANCELLED)

    class StaleRead:
        def filter(self, **kwargs):
            return self

        def first(self):
            return stale

    monkeypatch.setattr(Registration.objects, "select_related", lambda *fields: StaleRead())
    result, _reg = services.check_in(event=event, ticket_code=registration.ticket_code, actor=personas["coordinator"])
    assert result == "not_confirmed"
    assert Registration.objects.get(pk=registration.pk).checked_in_at is None


def test_reminder_goes_once_the_day_before_and_not_to_cancelled_people(territory, django_capture_on_commit_callbacks):
    from events.tasks import send_reminder

    event = make_event(territory, starts_at=timezone.now() + timedelta(hours=20))
    kept = services.register_attendee(event=event, data=person(1))
    gone = services.register_attendee(event=event, data=person(2))
    services.cancel_registration(registration=gone)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        send_reminder.call(kept.pk)
        send_reminder.call(kept.pk)
        send_reminder.call(gone.pk)
    assert [m.to for m in mail.outbox] == [["persona1@example.org"]]
    assert "Domani" in mail.outbox[0].subject


def test_confirmation_schedules_the_reminder_with_the_database_backend(territory, settings):
    from django_tasks_db.models import DBTaskResult

    from core.models import SentMail
    from events.tasks import send_registration_mail

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    event = make_event(territory, starts_at=timezone.now() + timedelta(days=10))
    registration = services.register_attendee(event=event, data=person(1))
    assert not DBTaskResult.objects.filter(task_path="events.tasks.send_reminder").exists()

    # What the worker does with the queued confirmation: send it, then schedule the reminder.
    [queued] = DBTaskResult.objects.filter(task_path="events.tasks.send_registration_mail")
    send_registration_mail.call(*queued.args_kwargs["args"])

    [confirmation] = SentMail.objects.all()
    assert registration.ticket_code in confirmation.body_text
    reminder = DBTaskResult.objects.get(task_path="events.tasks.send_reminder")
    assert reminder.run_after == event.starts_at - timedelta(days=1)


def test_a_person_waiting_for_a_table_while_seated_elsewhere_frees_that_seat_when_moved(territory):
    from events.models import WorkingTable

    event = make_event(territory, table_mode="first_come", tables=[("A", 1), ("B", 1)])
    a, b = WorkingTable.objects.filter(event=event).order_by("position")
    at_a = services.register_attendee(event=event, data=person(1), table_id=a.pk)
    at_b = services.register_attendee(event=event, data=person(2), table_id=b.pk)
    services.choose_table(registration=at_b, table=a)  # A is full: waits, keeps the seat at B
    at_b.refresh_from_db()
    assert (at_b.table, at_b.waiting_table) == (b, a)

    services.cancel_registration(registration=at_a)

    at_b.refresh_from_db()
    a.refresh_from_db()
    b.refresh_from_db()
    assert (at_b.table, at_b.waiting_table) == (a, None)
    assert (a.seats_taken, b.seats_taken) == (1, 0)


def test_a_mail_about_a_state_the_registration_has_left_is_not_sent(territory, django_capture_on_commit_callbacks):
    from events import notifications

    event = make_event(territory, capacity=5)
    registration = services.register_attendee(event=event, data=person(1))
    services.cancel_registration(registration=registration)
    registration.refresh_from_db()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        notifications.send_now(registration, "confirmed")  # the worker got to it after the cancellation
    assert mail.outbox == []
    with django_capture_on_commit_callbacks(execute=True):
        notifications.send_now(registration, "cancelled")
    assert len(mail.outbox) == 1


def test_registering_renders_no_mail_in_the_request(territory, settings, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from core.models import SentMail

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    event = make_event(territory, capacity=5)
    with django_capture_on_commit_callbacks(execute=True):
        services.register_attendee(event=event, data=person(1))
    assert SentMail.objects.count() == 0  # rendered later by the worker
    assert DBTaskResult.objects.filter(task_path="events.tasks.send_registration_mail").count() == 1


def test_with_the_database_backend_mails_are_queued_in_the_registrations_own_transaction(territory, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    event = make_event(territory, capacity=5)
    mails = DBTaskResult.objects.filter(task_path="events.tasks.send_registration_mail")
    services.register_attendee(event=event, data=person(1))  # no on-commit callbacks run here
    assert mails.count() == 1
    with pytest.raises(services.AlreadyRegistered):
        services.register_attendee(event=event, data=person(1))
    assert mails.count() == 1  # the refused one rolled back, its mail with it


def test_a_seat_freed_since_the_event_was_read_is_taken(territory, django_capture_on_commit_callbacks):
    from events.models import Event

    event = make_event(territory, capacity=1)
    first = services.register_attendee(event=event, data=person(1))
    full = Event.objects.get(pk=event.pk)
    services.cancel_registration(registration=first)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        second = services.register_attendee(event=full, data=person(2))

    assert second.status == Registration.objects.get(pk=second.pk).status == "confirmed"
    event.refresh_from_db()
    assert event.seats_taken == 1
    assert [a.action for a in AuditLog.objects.filter(object_id=str(second.pk))] == ["registration.confirmed"]
    [message] = mail.outbox
    assert second.ticket_code in message.body


def test_an_event_filled_since_it_was_read_puts_the_registration_on_the_waiting_list(
    territory, django_capture_on_commit_callbacks
):
    from events.models import Event

    event = make_event(territory, capacity=1)
    with_a_seat = Event.objects.get(pk=event.pk)
    services.register_attendee(event=event, data=person(1))
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        second = services.register_attendee(event=with_a_seat, data=person(2))

    assert second.status == Registration.objects.get(pk=second.pk).status == "waitlisted"
    event.refresh_from_db()
    assert event.seats_taken == 1
    assert [a.action for a in AuditLog.objects.filter(object_id=str(second.pk))] == ["registration.waitlisted"]
    [message] = mail.outbox
    assert second.ticket_code not in message.body


def test_the_offer_mail_links_to_a_page_whose_button_accepts(client, territory, django_capture_on_commit_callbacks):
    event = make_event(territory, capacity=1, offer_hours=12)
    first = services.register_attendee(event=event, data=person(1))
    second = services.register_attendee(event=event, data=person(2))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_registration(registration=first)
    (offer,) = [m for m in mail.outbox if m.to == ["persona2@example.org"]]
    link = re.search(r"https?://\S+#posto-offerto", offer.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1].split("#")[0]
    page = client.get(f"/{path}")  # what a mail scanner, or the person, opens: it changes nothing
    assert page.status_code == 200 and 'id="posto-offerto"' in page.content.decode()
    second.refresh_from_db()
    assert second.status == "offered"
    client.post(reverse("events:accept_offer", kwargs={"token": second.token}))
    second.refresh_from_db()
    assert second.status == "confirmed"


def test_a_confirmed_person_finds_the_online_link_on_their_page_the_public_does_not(
    client, territory, django_capture_on_commit_callbacks
):
    event = make_event(territory, mode="hybrid", online_url="https://meet.example.org/mire-evento", capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = services.register_attendee(event=event, data=person(1))
        waiting = services.register_attendee(event=event, data=person(2))
    # The link is a seat: the confirmation carries it, the waiting list's mail does not.
    by_person = {message.to[0]: message for message in mail.outbox}
    assert "https://meet.example.org/mire-evento" in by_person["persona1@example.org"].body
    assert "https://meet.example.org/mire-evento" not in by_person["persona2@example.org"].body
    assert all("meet.example.org" not in html for html, _type in by_person["persona2@example.org"].alternatives)
    assert "https://meet.example.org/mire-evento" in client.get(confirmed.get_absolute_url()).content.decode()
    assert "https://meet.example.org/mire-evento" not in client.get(waiting.get_absolute_url()).content.decode()
    assert "https://meet.example.org/mire-evento" not in client.get(event.get_absolute_url()).content.decode()


def test_a_full_table_is_offered_as_its_waiting_list(client, territory):
    event = make_event(territory, table_mode="first_come", tables=[("Tavolo A", 1), ("Tavolo B", 5)])
    table_a = event.tables.get(title="Tavolo A")
    services.register_attendee(event=event, data=person(1), table_id=table_a.pk)
    page = client.get(reverse("events:register", kwargs={"territory": "milano", "slug": event.slug})).content.decode()
    assert "Tavolo A (completo: lista d&#x27;attesa del tavolo)" in page and "Tavolo B (5 posti liberi)" in page


def test_choosing_a_table_from_the_registration_page_refuses_what_is_not_a_table(client, territory):
    event = make_event(territory, table_mode="first_come", tables=[("Tavolo A", 5)])
    table_a = event.tables.get()
    registration = services.register_attendee(event=event, data=person(1))
    choose = reverse("events:choose_table", kwargs={"token": registration.token})
    for tampered in ("abc", "1e3", "1.5", "NaN", "a\x00b", str(2**70), ""):
        assert client.post(choose, {"table": tampered}).status_code == 404, tampered
    registration.refresh_from_db()
    assert registration.table is None
    assert client.post(choose, {"table": table_a.pk}).status_code == 302
    registration.refresh_from_db()
    assert registration.table == table_a


def test_a_full_event_does_not_advertise_table_seats_and_a_past_one_no_calendar(client, territory):
    event = make_event(territory, capacity=1, tables=[("Welfare in rete", 5)], table_mode="first_come")
    page = client.get(event.get_absolute_url()).content.decode()
    assert "5 posti liberi" in page and "Aggiungi al calendario" in page
    # Phones get a way from the top to the registration box, which comes after the programme.
    assert 'href="#registration-title">Vai all&#x27;iscrizione</a>' in page or 'href="#registration-title">Vai all\'iscrizione</a>' in page
    services.register_attendee(event=event, data=person(1), table_id=event.tables.get().pk)
    cache.clear()
    page = client.get(event.get_absolute_url()).content.decode()
    assert "I posti sono esauriti" in page and "posti liberi" not in page
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(days=3),
                                             ends_at=timezone.now() - timedelta(days=3) + timedelta(hours=6))
    cache.clear()
    page = client.get(event.get_absolute_url()).content.decode()
    assert "Aggiungi al calendario" not in page and "L'evento si è concluso." in page


def test_cancelling_says_what_happens_to_a_seat_or_a_waiting_place(client, territory):
    event = make_event(territory, capacity=1)
    seated = services.register_attendee(event=event, data=person(1))
    waiting = services.register_attendee(event=event, data=person(2))
    cancel = lambda r: reverse("events:cancel", kwargs={"token": r.token})  # noqa: E731
    ask = client.get(cancel(waiting)).content.decode()
    assert "Uscirai dalla lista d&#x27;attesa." in ask or "Uscirai dalla lista d'attesa." in ask
    assert "Il tuo posto torna disponibile" not in ask
    done = client.post(cancel(waiting), follow=True).content.decode()
    assert "non sei più in lista d" in done and "il posto torna disponibile" not in done
    ask = client.get(cancel(seated)).content.decode()
    assert "Il tuo posto torna disponibile: se qualcuno è in lista d" in ask
    done = client.post(cancel(seated), follow=True).content.decode()
    assert "il posto torna disponibile per altri" in done


def test_the_ticket_page_says_when_the_person_came_in_and_repeats_ranked_choices(client, territory):
    event = make_event(territory, table_mode="ranked", tables=[("Welfare in rete", 5), ("Diversity & Inclusion", 5)])
    welfare, inclusion = event.tables.order_by("position")
    reg = services.register_attendee(event=event, data=person(1), preferences=[inclusion.pk, welfare.pk])
    page = client.get(reverse("events:registration", kwargs={"token": reg.token})).content.decode()
    assert "Le tue preferenze: 1. Diversity &amp; Inclusion; 2. Welfare in rete." in page
    assert "Il coordinamento assegna i tavoli prima dell" in page
    assert "Mostra questo codice all" in page
    services.check_in(event=event, ticket_code=reg.ticket_code, actor=None)
    reg.refresh_from_db()
    page = client.get(reverse("events:registration", kwargs={"token": reg.token})).content.decode()
    moment = timezone.localtime(reg.checked_in_at)
    assert f"Ingresso registrato il {moment.day} " in page and f"alle {moment:%H:%M}." in page
    assert "Mostra questo codice all" not in page


def test_the_confirmation_gives_the_hours_the_online_link_in_its_calendar_file_and_ranked_choices(
    client, territory, django_capture_on_commit_callbacks
):
    from icalendar import Calendar

    morning = timezone.localtime(timezone.now() + timedelta(days=10)).replace(hour=9, minute=30, second=0, microsecond=0)
    event = make_event(territory, mode="hybrid", online_url="https://meet.example.org/mire-evento", starts_at=morning,
                       table_mode="ranked", tables=[("Welfare in rete", 5), ("Diversity & Inclusion", 5)])
    welfare, inclusion = event.tables.order_by("position")
    with django_capture_on_commit_callbacks(execute=True):
        services.register_attendee(event=event, data=person(1), preferences=[welfare.pk, inclusion.pk])
    [message] = mail.outbox
    start, end = timezone.localtime(event.starts_at), timezone.localtime(event.ends_at)
    assert f"{start:%H:%M}–{end:%H:%M}" in message.body and "09:30–15:30" in message.body
    assert "Le tue preferenze: 1. Welfare in rete; 2. Diversity & Inclusion." in message.body
    ics = next(content for name, content, _type in message.attachments if name == "evento.ics")
    [entry] = Calendar.from_ical(ics).walk("VEVENT")
    assert "https://meet.example.org/mire-evento" in str(entry["description"])
    # The public feed keeps the link for registered people only.
    feed = client.get(reverse("events:event_ics", kwargs={"territory": "milano", "slug": event.slug})).content
    assert b"meet.example.org" not in feed


def test_a_table_chosen_from_the_waiting_list_is_taken_once_a_seat_comes(territory, client):
    from events.models import WorkingTable

    event = make_event(territory, capacity=1, table_mode="first_come", tables=[("Imprese", 1), ("Territori", 5)])
    imprese, territori = WorkingTable.objects.filter(event=event).order_by("position")
    seated = services.register_attendee(event=event, data=person(1), table_id=territori.pk)
    waiting = services.register_attendee(event=event, data=person(2), table_id=imprese.pk)
    assert (waiting.status, waiting.waiting_table_id, waiting.table_id) == ("waitlisted", imprese.pk, None)
    imprese.refresh_from_db()
    assert imprese.seats_taken == 0  # nobody is seated at a table before they have a seat at the event
    page = client.get(waiting.get_absolute_url()).content.decode()
    assert "Hai scelto il tavolo «Imprese»" in page

    services.cancel_registration(registration=seated)  # the seat goes to the waiting list, the table with it

    waiting.refresh_from_db()
    imprese.refresh_from_db()
    assert (waiting.status, waiting.table_id, waiting.waiting_table_id) == ("confirmed", imprese.pk, None)
    assert imprese.seats_taken == 1


def test_a_table_full_by_the_time_the_seat_comes_is_waited_for(territory):
    from events.models import WorkingTable

    event = make_event(territory, capacity=1, table_mode="first_come", tables=[("Imprese", 1)])
    [imprese] = WorkingTable.objects.filter(event=event)
    seated = services.register_attendee(event=event, data=person(1), table_id=imprese.pk)
    waiting = services.register_attendee(event=event, data=person(2), table_id=imprese.pk)
    result = services.confirm_out_of_turn(registration=waiting, actor=None)  # the event grows, the table does not
    waiting.refresh_from_db()
    assert result.capacity_raised_to == 2
    assert (waiting.status, waiting.table_id, waiting.waiting_table_id) == ("confirmed", None, imprese.pk)
    services.cancel_registration(registration=seated)  # the table's seat passes to them
    waiting.refresh_from_db()
    assert (waiting.table_id, waiting.waiting_table_id) == (imprese.pk, None)


def test_a_table_ranked_twice_is_refused_next_to_the_repeated_choice(client, territory):
    event = make_event(territory, table_mode="ranked", tables=[("Welfare in rete", 5), ("Diversity & Inclusion", 5)])
    welfare = event.tables.get(title="Welfare in rete")

    response = client.post(register_url(event), form_data(preference_1=welfare.pk, preference_2=welfare.pk))

    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors["preference_2"] == ["Ogni tavolo può comparire una volta sola tra le preferenze."]
    assert "preference_1" not in form.errors and not form.non_field_errors()
    assert 'id="id_preference_2-error"' in response.content.decode()
    assert not Registration.objects.exists()


def test_the_english_form_marks_the_events_italian_words_as_italian(client, territory):
    # WCAG 3.1.2: a screen reader reading the English page pronounces the event's own words as Italian.
    event = make_event(territory, capacity=5)
    Event.objects.filter(pk=event.pk).update(title="Laboratorio di conciliazione")
    event.refresh_from_db()
    Question.objects.create(event=event, label="Quante persone lavorano con te?", kind=Question.Kind.SINGLE,
                            choices=["1-9", "10 e oltre"], position=1)
    Question.objects.create(event=event, label="Usate già lo smart working?", kind=Question.Kind.YES_NO, position=2)
    english = client.get(register_url(event), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<span lang="it">Laboratorio di conciliazione</span>' in english
    assert re.search(r'<label for="id_q_\d+" lang="it">Quante persone', english)
    assert re.search(r'<option value="10 e oltre"[^>]* lang="it">', english)
    assert re.search(r'<option value="yes"[^>]*>Yes</option>', english)  # our own words, in English
    italian = client.get(register_url(event)).content.decode()
    assert 'lang="it"' not in italian.split('id="main-content"', 1)[1]  # the page's own language needs no marking
