"""Statements built once (core/statements.py) write and read what the ORM would, on either database."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from core import audit
from core.models import AuditLog
from core.statements import Prepared, insert
from events.models import Event, Question, Registration
from events.tests.factories import make_event

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

    written.status = Registration.Status.CONFIRMED
    written.save(update_fields=["status"])  # an UPDATE of that row, not a second INSERT

    assert Registration.objects.get().status == Registration.Status.CONFIRMED
    assert not written._state.adding


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
def test_a_key_chosen_by_the_model_is_kept():
    # A task row's id is a UUID from its default, not from the database.
    row = DBTaskResult(
        args_kwargs={"args": [1, "confirmed"], "kwargs": {}}, priority=0, task_path="events.tasks.x",
        queue_name="default", backend_name="default", run_after=get_date_max(),
    )
    chosen = row.pk

    insert(row)

    assert DBTaskResult.objects.get().pk == chosen


def _readable_events():
    return Event.objects.published().filter(territory__is_active=True).select_related("territory")


READ = Prepared(
    lambda pk: _readable_events()
    .filter(pk=pk)
    .only("territory_id", "ends_at", "capacity", "is_published")
    .annotate(has_questions=Exists(Question.objects.filter(event=OuterRef("pk"))))
)


@pytest.mark.django_db
def test_a_prepared_read_finds_what_its_queryset_finds(territory, other_territory):
    asks = make_event(territory, capacity=7)
    Question.objects.create(event=asks, label="Pranzo?", kind=Question.Kind.YES_NO)
    plain = make_event(territory)
    draft = make_event(territory, is_published=False)
    elsewhere = make_event(other_territory)
    other_territory.is_active = False
    other_territory.save()

    for event in (asks, plain, draft, elsewhere):
        found = READ.get(event.pk)
        expected = _readable_events().filter(pk=event.pk).first()
        assert (found is None) == (expected is None), event
        if found is not None:
            assert (found.pk, found.capacity, found.ends_at, found.territory_id) == (
                event.pk, event.capacity, event.ends_at, event.territory_id)
            assert found.ends_at.tzinfo is not None  # the backend's converters applied, SQLite too
    assert READ.get(asks.pk).has_questions and not READ.get(plain.pk).has_questions
    assert READ.get(draft.pk) is None and READ.get(elsewhere.pk) is None and READ.get(10**9) is None
    # Only the named columns were read; others load on access, as with only().
    assert READ.get(plain.pk).get_deferred_fields() >= {"title", "summary"}


def test_a_prepared_query_must_use_its_value():
    with pytest.raises(ValueError, match="once"):
        Prepared(lambda pk: Event.objects.filter(capacity__gt=0))._compiled("default")
