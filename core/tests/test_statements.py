"""Statements built once (core/statements.py) write and read what the ORM would, on either database."""

import json
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from core import audit, tasks
from core.models import AuditLog, Territory
from core.statements import Prepared, insert
from events.api import _event_to_register, _public_events
from events.models import Event, Question, Registration
from events.tasks import send_registration_mail
from events.tests.factories import make_event, person

CONCRETE = [field.attname for field in Registration._meta.concrete_fields]


def registration(event, **fields) -> Registration:
    return Registration(
        event=event, status=Registration.Status.WAITLISTED, first_name="Giulia", last_name="Brambilla",
        email="giulia@example.org", organisation_name="Spazio Bimbi", answers={"3": ["pranzo", "è"], "4": "sì"},
        newsletter_opt_in=True, privacy_acknowledged_at=timezone.now(), language="en",
        waiting_table_since=timezone.now() - timedelta(minutes=5), **fields,
    )


@pytest.mark.django_db
def test_an_inserted_row_reads_back_as_it_was_written(territory):
    event = make_event(territory)
    written = insert(registration(event))

    read = Registration.objects.get(pk=written.pk)
    assert {name: getattr(read, name) for name in CONCRETE} == {name: getattr(written, name) for name in CONCRETE}
    assert read.answers == {"3": ["pranzo", "è"], "4": "sì"}
    assert read.created_at is not None and read.created_at.tzinfo is not None  # auto_now_add, as save() sets it


@pytest.mark.django_db
def test_an_inserted_instance_counts_as_saved(territory):
    event = make_event(territory)
    written = insert(registration(event))

    assert not written._state.adding and written._state.db == "default"
    written.delete()  # as for a saved instance: its row, found by the id insert() gave it
    assert not Registration.objects.exists()


@pytest.mark.django_db
def test_an_insert_that_breaks_a_constraint_raises_and_leaves_nothing(territory):
    event = make_event(territory)
    insert(registration(event))

    with pytest.raises(IntegrityError), transaction.atomic():
        audit.record(actor="x@example.org", action="registration.waitlisted", obj=event, territory=territory)
        insert(registration(event))  # the same email for the same event

    assert Registration.objects.count() == 1
    assert not AuditLog.objects.exists()


@pytest.mark.django_db
def test_insert_refuses_what_save_would_refuse_or_do_differently(territory):
    event = make_event(territory)
    with pytest.raises(ValueError, match="unsaved related object"):
        insert(registration(Event(territory=territory)))
    with pytest.raises(ValueError, match="without an id"):
        insert(registration(event, id=12345))
    # A task row has a pre_save receiver (django_tasks_db's run_after): only a caller doing its work may skip it.
    with pytest.raises(ValueError, match="receivers"):
        insert(DBTaskResult(args_kwargs={"args": [], "kwargs": {}}, task_path="x", queue_name="default",
                            backend_name="default"))
    assert not Registration.objects.exists() and not DBTaskResult.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("at", [None, "later"])
def test_a_single_task_row_is_the_row_enqueue_writes(settings, at):
    # core/tasks.py writes one job's row itself (insert(), no signals): it must be what django-tasks'
    # own enqueue() and django_tasks_db's pre_save receiver write, whatever a new version changes there.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    run_at = timezone.now() + timedelta(hours=3) if at else None
    task = send_registration_mail.using(run_after=run_at) if run_at else send_registration_mail
    task.enqueue(7, "confirmed")
    with transaction.atomic():
        tasks.enqueue_after_commit((send_registration_mail, (7, "confirmed"), run_at) if run_at
                                   else (send_registration_mail, (7, "confirmed")))

    theirs, ours = DBTaskResult.objects.order_by("enqueued_at")
    same = ["status", "args_kwargs", "priority", "task_path", "worker_ids", "queue_name", "backend_name", "run_after",
            "started_at", "finished_at", "return_value", "exception_class_path", "traceback"]
    assert {name: getattr(ours, name) for name in same} == {name: getattr(theirs, name) for name in same}
    assert ours.run_after == (run_at or get_date_max())


@pytest.mark.django_db
def test_the_registration_read_finds_what_its_queryset_finds(territory, other_territory):
    asks = make_event(territory, capacity=7)
    Question.objects.create(event=asks, label="Pranzo?", kind=Question.Kind.YES_NO)
    plain = make_event(territory)
    draft = make_event(territory, is_published=False)
    elsewhere = make_event(other_territory)
    Territory.objects.filter(pk=other_territory.pk).update(is_active=False)

    for event in (asks, plain):
        found = _event_to_register(event.pk)
        assert (found.pk, found.capacity, found.seats_taken, found.ends_at, found.territory_id) == (
            event.pk, event.capacity, event.seats_taken, event.ends_at, event.territory_id)
        assert found.ends_at.tzinfo is not None  # the backend's converters applied, SQLite too
        assert found.territory.pk == territory.pk
        assert found.get_deferred_fields() >= {"title", "summary"}  # only the columns registering reads
    assert _event_to_register(asks.pk).has_questions and not _event_to_register(plain.pk).has_questions
    for missing in (draft.pk, elsewhere.pk, 10**9, 10**20, -1):
        assert not _public_events().filter(pk=missing).exists()
        with pytest.raises(Http404):
            _event_to_register(missing)


@pytest.mark.django_db
def test_an_id_past_any_column_is_not_found(client, territory):
    # ninja takes any integer in the path; SQLite cannot even bind this one.
    body = json.dumps({**person(1), "privacy_acknowledged": True})
    response = client.post(f"/api/v1/events/{10**20}/registrations", body, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_prepared_query_must_use_its_value():
    with pytest.raises(ValueError, match="once"):
        Prepared(lambda pk: Event.objects.filter(capacity__gt=0))._compiled("default")
