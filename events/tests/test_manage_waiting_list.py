"""The coordinator's event page shows each waiting person's place in the queue that seats are handed out from."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from events import services
from events.models import Registration

from .factories import make_event, person
from .test_staff import url


def shown_places(page: str) -> dict[str, int | None]:
    """The people listed on the page, in the order shown, with the place the page gives them in the waiting list."""
    places = {}
    for row in page.split("<tr>")[2:]:  # after the header row
        email = re.search(r"persona\d+@example\.org", row)
        place = re.search(r"n\. (\d+) in lista d'attesa", row)
        if email:
            places[email.group()] = int(place.group(1)) if place else None
    return places


def full_event_with_waiting_list(territory, waiting: int):
    """One seat, taken by persona0; persona1…personaN wait, in this order."""
    event = make_event(territory, capacity=1)
    registrations = [services.register_attendee(event=event, data=person(n)) for n in range(waiting + 1)]
    assert {r.status for r in registrations[1:]} == {"waitlisted"}
    return event, registrations


@pytest.mark.django_db
def test_the_place_shown_counts_the_whole_waiting_list_whatever_the_filter_or_page(client_as, personas, territory):
    event, _ = full_event_with_waiting_list(territory, 51)
    client = client_as(personas["coordinator"])

    first_page = shown_places(client.get(url("manage", event)).content.decode())
    assert first_page["persona0@example.org"] is None  # confirmed: not in the queue
    assert first_page["persona1@example.org"] == 1 and first_page["persona49@example.org"] == 49
    assert shown_places(client.get(url("manage", event), {"page": 2}).content.decode()) == {
        "persona50@example.org": 50, "persona51@example.org": 51}
    found = client.get(url("manage", event), {"q": "persona3@example.org"}).content.decode()
    assert shown_places(found) == {"persona3@example.org": 3}
    only_waiting = client.get(url("manage", event), {"stato": "waitlisted", "q": "persona5"}).content.decode()
    assert list(shown_places(only_waiting).items()) == [
        ("persona5@example.org", 5), ("persona50@example.org", 50), ("persona51@example.org", 51)]
    english = client.get(url("manage", event), {"q": "persona3@example.org"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "no. 3 on the waiting list" in english.content.decode()


@pytest.mark.django_db
def test_the_places_shown_are_the_order_in_which_freed_seats_are_handed_out(client_as, personas, territory):
    event, (seated, first, second, third, fourth) = full_event_with_waiting_list(territory, 4)
    # Two registrations at the same moment can be stamped in one order and stored in the other:
    # the queue goes by the time of registration, not by the row's id.
    Registration.objects.filter(pk=fourth.pk).update(created_at=first.created_at - timedelta(seconds=1))
    client = client_as(personas["coordinator"])

    def waiting_list() -> dict[str, int | None]:
        return shown_places(client.get(url("manage", event), {"stato": "waitlisted"}).content.decode())

    assert list(waiting_list().items()) == [(fourth.email, 1), (first.email, 2), (second.email, 3), (third.email, 4)]
    services.cancel_registration(registration=first)  # leaves the waiting list: those behind move up
    assert list(waiting_list().items()) == [(fourth.email, 1), (second.email, 2), (third.email, 3)]

    services.cancel_registration(registration=seated)  # the seat goes to the one shown as n. 1
    fourth.refresh_from_db()
    assert fourth.status == "confirmed"
    assert list(waiting_list().items()) == [(second.email, 1), (third.email, 2)]


@pytest.mark.django_db
def test_the_places_cost_the_same_queries_for_3_or_30_people_waiting(client_as, personas, territory):
    short, _ = full_event_with_waiting_list(territory, 3)
    long, _ = full_event_with_waiting_list(territory, 30)
    client = client_as(personas["coordinator"])
    client.get(url("manage", short))  # the session, the territory: whatever a first request loads once

    with CaptureQueriesContext(connection) as for_short:
        short_page = client.get(url("manage", short)).content.decode()
    with CaptureQueriesContext(connection) as for_long:
        long_page = client.get(url("manage", long)).content.decode()
    assert shown_places(short_page)["persona3@example.org"] == 3
    assert shown_places(long_page)["persona30@example.org"] == 30
    assert len(for_long) == len(for_short)
