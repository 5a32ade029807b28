"""Capacity and the waiting list under real concurrency, on SQLite and PostgreSQL."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from events import services
from events.models import Event, Registration

from .factories import make_event, person


def _register_concurrently(event, people, workers=20):
    barrier = threading.Barrier(workers)
    errors = []

    def register(n):
        try:
            if n < workers:
                barrier.wait(timeout=30)
            return services.register_attendee(event=event, data=person(n))
        except Exception as exc:  # recorded, asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(register, people))
    return results, errors


def _at_once(work, count: int) -> list[Exception]:
    """Run work(0) … work(count - 1) in as many threads, released together; the errors they raised."""
    barrier = threading.Barrier(count)
    errors = []

    def run(n):
        try:
            barrier.wait(timeout=30)
            work(n)
        except Exception as exc:  # recorded, asserted on by the test
            errors.append(exc)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        list(pool.map(run, range(count)))
    return errors


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_200_concurrent_registrations_for_the_last_50_seats(territory):
    event = make_event(territory, capacity=60)
    for n in range(10):  # ten seats already gone
        services.register_attendee(event=event, data=person(1000 + n))

    results, errors = _register_concurrently(event, range(200))

    assert errors == []
    statuses = [r.status for r in results]
    assert statuses.count("confirmed") == 50
    assert statuses.count("waitlisted") == 150
    event.refresh_from_db()
    assert event.seats_taken == 60 == Registration.objects.filter(event=event, status="confirmed").count()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_email_twice_at_once_makes_one_registration(territory):
    event = make_event(territory, capacity=10)

    def same_person(_):
        try:
            return services.register_attendee(event=event, data=person(7))
        except services.AlreadyRegistered:
            return "duplicate"
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(same_person, range(8)))

    assert sum(isinstance(r, Registration) for r in results) == 1
    assert results.count("duplicate") == 7
    event.refresh_from_db()
    assert event.seats_taken == 1
    assert Registration.objects.filter(event=event).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_cancellations_promote_exactly_as_many_from_the_waiting_list(territory):
    event = make_event(territory, capacity=20)
    registered = [services.register_attendee(event=event, data=person(n)) for n in range(40)]
    confirmed = [r for r in registered if r.status == "confirmed"]

    def cancel(registration):
        try:
            services.cancel_registration(registration=registration)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(cancel, confirmed[:10]))

    event.refresh_from_db()
    assert event.seats_taken == 20 == Registration.objects.filter(event=event, status="confirmed").count()
    # The first ten of the waiting list, in arrival order, got the seats.
    promoted = set(Registration.objects.filter(event=event, status="confirmed").values_list("email", flat=True))
    assert {f"persona{n}@example.org" for n in range(20, 30)} <= promoted
    assert Registration.objects.filter(event=event, status="waitlisted").count() == 10


@pytest.mark.django_db
def test_the_database_refuses_an_overbooked_event(territory):
    from django.db import IntegrityError, transaction

    event = make_event(territory, capacity=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(seats_taken=2)



@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_cancellations_during_a_rush_never_leave_a_seat_free_while_people_wait(territory):
    event = make_event(territory, capacity=10)
    confirmed = [services.register_attendee(event=event, data=person(n)) for n in range(10)]
    full = Event.objects.get(pk=event.pk)  # as read by each request of the rush: no seat left

    def cancel_or_register(n):
        if n < 5:
            services.cancel_registration(registration=confirmed[n])
        else:
            services.register_attendee(event=full, data=person(100 + n))

    errors = _at_once(cancel_or_register, 20)

    assert errors == []
    event.refresh_from_db()
    # Five seats freed, fifteen newcomers: every freed seat went to one of them.
    assert event.seats_taken == 10 == Registration.objects.filter(event=event, status="confirmed").count()
    assert Registration.objects.filter(event=event, status="waitlisted").count() == 10


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_seat_freed_while_a_registration_is_being_written_goes_to_it(territory, monkeypatch):
    from django.db import connection

    if connection.vendor == "sqlite":
        pytest.skip("SQLite runs one writing transaction at a time: nothing can happen in between")
    event = make_event(territory, capacity=1)
    holder = services.register_attendee(event=event, data=person(1))
    full = Event.objects.get(pk=event.pk)
    written, cancelled = threading.Event(), threading.Event()
    queue_mails = services.notifications.registration_changed

    def queue_mails_then_pause(registration):
        # The newcomer's registration is written but not committed: the cancellation happens now,
        # and hands its seat to a waiting list that does not show the newcomer yet.
        queue_mails(registration)
        if registration.email == "persona2@example.org" and not written.is_set():
            written.set()
            cancelled.wait(timeout=30)

    monkeypatch.setattr(services.notifications, "registration_changed", queue_mails_then_pause)

    def register():
        try:
            return services.register_attendee(event=full, data=person(2))
        finally:
            connections.close_all()

    def cancel():
        try:
            written.wait(timeout=30)
            services.cancel_registration(registration=holder)
        finally:
            cancelled.set()
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        newcomer, cancellation = pool.submit(register), pool.submit(cancel)
        cancellation.result(timeout=60)
        assert newcomer.result(timeout=60).status == "confirmed"
    event.refresh_from_db()
    assert event.seats_taken == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_confirming_out_of_turn_during_a_rush_and_cancellations_keeps_the_seats_counted(territory):
    event = make_event(territory, capacity=5)
    confirmed = [services.register_attendee(event=event, data=person(n)) for n in range(5)]
    waiting = [services.register_attendee(event=event, data=person(10 + n)) for n in range(5)]
    full = Event.objects.get(pk=event.pk)

    def act(n):
        if n < 5:
            services.confirm_out_of_turn(registration=waiting[n], actor=None)
        elif n < 8:
            services.cancel_registration(registration=confirmed[n - 5])
        else:
            services.register_attendee(event=full, data=person(100 + n))

    errors = _at_once(act, 20)

    # A cancellation may have handed its seat to one of them first: then there is nobody to confirm.
    assert all(isinstance(error, services.AlreadySeated) for error in errors), errors
    event.refresh_from_db()
    holding = Registration.objects.filter(event=event, status__in=["confirmed", "offered"]).count()
    assert event.seats_taken == holding <= event.capacity  # counted right, never past the capacity
    # Nobody waits while a seat is free.
    assert event.seats_taken == event.capacity or not Registration.objects.filter(event=event, status="waitlisted").exists()
    for registration in waiting:
        registration.refresh_from_db()
        assert registration.status == "confirmed"
