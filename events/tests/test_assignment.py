from itertools import product

import pytest

from events.assignment import assign


def brute_force_best(preferences, capacities):
    """Every way of seating people (or not): the best (satisfied, -rank sum) by exhaustion."""
    people = sorted(preferences)
    options = [*capacities, None]
    best = None
    for choice in product(options, repeat=len(people)):
        counts = {t: choice.count(t) for t in capacities}
        if any(counts[t] > capacities[t] for t in capacities):
            continue
        seated = sum(1 for c in choice if c is not None)
        if seated < min(len(people), sum(capacities.values())):
            continue
        satisfied = sum(1 for p, c in zip(people, choice) if c in preferences[p])
        rank_sum = sum(preferences[p].index(c) for p, c in zip(people, choice) if c in preferences[p])
        key = (satisfied, -rank_sum)
        best = key if best is None or key > best else best
    return best


def score(result, preferences):
    rank_sum = sum(preferences[p].index(t) for p, t in result.seats.items() if t in preferences[p])
    return (result.satisfied, -rank_sum)


def test_a_known_case_where_greedy_first_come_is_not_optimal():
    # A registered first and ranks table 1 then 2; B only wants table 1. One seat each.
    # Greedy in arrival order seats A at 1 and leaves B unsatisfied; the optimum swaps.
    preferences = {1: [10, 20], 2: [10]}
    result = assign(preferences, {10: 1, 20: 1})
    assert result.seats == {1: 20, 2: 10}
    assert result.satisfied == 2
    assert result.first_choices == 1  # B; A sits at its second choice


def test_capacities_are_never_exceeded_and_extra_people_stay_unseated():
    preferences = {p: [10] for p in range(5)}
    result = assign(preferences, {10: 2, 20: 1})
    assert list(result.seats.values()).count(10) == 2
    assert list(result.seats.values()).count(20) == 1
    assert len(result.unseated) == 2
    assert result.satisfied == 2


@pytest.mark.parametrize("seed", range(25))
def test_matches_exhaustive_search_on_small_random_cases(seed):
    import random

    rng = random.Random(seed)
    tables = [10, 20, 30]
    capacities = {t: rng.randint(0, 2) for t in tables}
    preferences = {p: rng.sample(tables, rng.randint(0, 3)) for p in range(rng.randint(1, 5))}
    result = assign(preferences, capacities)
    assert score(result, preferences) == brute_force_best(preferences, capacities)
    for table, seats in capacities.items():
        assert list(result.seats.values()).count(table) <= seats


def test_empty_inputs():
    assert assign({}, {10: 3}).seats == {}
    assert assign({1: [10]}, {}).unseated == [1]


@pytest.mark.django_db
def test_assign_tables_seats_people_optimally_and_the_coordinator_can_adjust(territory, personas):
    from events import services
    from events.models import Registration, WorkingTable

    from .factories import make_event, person

    coordinator = personas["coordinator"]
    event = make_event(territory, capacity=10, table_mode="ranked", tables=[("Welfare", 1), ("D&I", 1)])
    welfare, inclusion = WorkingTable.objects.filter(event=event).order_by("position")
    a = services.register_attendee(event=event, data=person(1), preferences=[welfare.pk, inclusion.pk])
    b = services.register_attendee(event=event, data=person(2), preferences=[welfare.pk])

    result = services.assign_tables(event=event, actor=coordinator)

    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.table, b.table) == (inclusion, welfare)  # first come would have left B without a choice
    assert result.satisfied == 2
    welfare.refresh_from_db()
    inclusion.refresh_from_db()
    assert (welfare.seats_taken, inclusion.seats_taken) == (1, 1)

    late = services.register_attendee(event=event, data=person(3), preferences=[inclusion.pk])
    with pytest.raises(services.TableFull):
        services.move_to_table(registration=late, table=inclusion, actor=coordinator)
    services.move_to_table(registration=a, table=None, actor=coordinator)
    services.move_to_table(registration=late, table=inclusion, actor=coordinator)
    inclusion.refresh_from_db()
    assert inclusion.seats_taken == 1
    assert Registration.objects.get(pk=late.pk).table == inclusion


@pytest.mark.django_db
def test_unseated_people_wait_for_their_first_choice_and_get_a_freed_seat(territory, personas):
    from events import services
    from events.models import WorkingTable

    from .factories import make_event, person

    event = make_event(territory, capacity=10, table_mode="ranked", tables=[("Welfare", 1)])
    table = WorkingTable.objects.get(event=event)
    first = services.register_attendee(event=event, data=person(1), preferences=[table.pk])
    second = services.register_attendee(event=event, data=person(2), preferences=[table.pk])
    result = services.assign_tables(event=event, actor=personas["coordinator"])
    seated_pk = next(iter(result.seats))
    waiting = second if seated_pk == first.pk else first
    waiting.refresh_from_db()
    assert waiting.waiting_table == table

    services.cancel_registration(registration=first if seated_pk == first.pk else second)
    waiting.refresh_from_db()
    assert waiting.table == table and waiting.waiting_table is None


@pytest.mark.django_db
def test_the_manage_page_shows_who_was_confirmed_after_the_assignment_without_a_table(territory, personas, client_as):
    from django.urls import reverse

    from events import services
    from events.models import WorkingTable

    from .factories import make_event, person

    event = make_event(territory, capacity=10, table_mode="ranked", tables=[("Welfare", 5), ("D&I", 5)])
    welfare = WorkingTable.objects.filter(event=event).order_by("position").first()
    services.register_attendee(event=event, data=person(1), preferences=[welfare.pk])
    services.assign_tables(event=event, actor=personas["coordinator"])
    manage = reverse("events:manage", kwargs={"territory": "milano", "slug": event.slug})
    client = client_as(personas["coordinator"])
    assert "non ha un tavolo" not in client.get(manage).content.decode()

    # Registered after the assignment ran: confirmed, seated nowhere, in no table's queue.
    services.register_attendee(event=event, data=person(2), preferences=[welfare.pk])
    page = client.get(manage).content.decode()
    assert "1 persona confermata non ha un tavolo né è in attesa di uno." in page
    listed = client.get(manage, {"stato": "senza_tavolo"}).content.decode()
    assert "persona2@example.org" in listed and "persona1@example.org" not in listed
