"""The events API as an integrator meets it: programme, registration, idempotent retries, staff."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiToken
from core.models import AuditLog, IdempotencyKey
from events import services
from events.models import Event, Question, Registration, Session, TablePreference

from .factories import make_event, person

EVENTS = "/api/v1/events"


def registrations_url(event) -> str:
    return f"{EVENTS}/{event.pk}/registrations"


def post(client, path: str, body, **headers):
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def bearer(user) -> dict:
    _token, key = ApiToken.issue(user=user, name="Gestionale")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    assert set(body) == {"code", "message", "fields"}
    return body


def signup(n: int = 1, **extra) -> dict:
    return {**person(n), "privacy_acknowledged": True, **extra}


# The public programme


@pytest.mark.django_db
def test_the_list_shows_one_territorys_published_upcoming_events_by_date(client, territory, other_territory):
    later = make_event(territory, starts_at=timezone.now() + timedelta(days=20))
    sooner = make_event(territory, starts_at=timezone.now() + timedelta(days=2))
    make_event(territory, is_published=False)
    make_event(territory, starts_at=timezone.now() - timedelta(days=30))
    make_event(other_territory)

    response = client.get(EVENTS, {"territory": "milano"})

    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [sooner.pk, later.pk]
    assert (body["count"], body["page"], body["pages"]) == (2, 1, 1)
    first = body["items"][0]
    assert first["seats_left"] == 100 and first["registration_open"] is True
    assert first["starts_at"].endswith(("+01:00", "+02:00"))  # Europe/Rome, with its offset
    assert first["url"].endswith(f"/milano/eventi/{sooner.slug}/")


@pytest.mark.django_db
def test_past_events_come_latest_first_and_q_searches(client, territory):
    old = make_event(territory, starts_at=timezone.now() - timedelta(days=60))
    recent = make_event(territory, starts_at=timezone.now() - timedelta(days=3), description="Una tavola rotonda sul welfare")

    past = client.get(EVENTS, {"territory": "milano", "when": "past"}).json()
    found = client.get(EVENTS, {"territory": "milano", "when": "past", "q": "ROTONDA"}).json()

    assert [item["id"] for item in past["items"]] == [recent.pk, old.pk]
    assert [item["id"] for item in found["items"]] == [recent.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "territory"), ({"territory": "atlantide"}, "territory"), ({"territory": "milano", "when": "ieri"}, "when"),
     ({"territory": "milano", "q": "a\x00"}, "q")],
)
def test_bad_list_parameters_answer_422_naming_the_field(client, territory, params, field):
    body = assert_error(client.get(EVENTS, params), 422, "invalid_input")
    assert list(body["fields"]) == [field]


@pytest.mark.django_db
def test_an_event_shows_its_programme_tables_with_free_seats_and_questions(client, territory):
    event = make_event(territory, tables=[("Welfare", 2), ("Smart working", 5)], table_mode="first_come",
                       online_url="https://meet.example.org/segreto", mode="hybrid")
    Session.objects.create(event=event, title="Apertura", starts_at=event.starts_at,
                           ends_at=event.starts_at + timedelta(minutes=30))
    question = Question.objects.create(event=event, label="Dieta?", kind="single", choices=["vegana", "nessuna"])
    services.register_attendee(event=event, data=person(1), table_id=event.tables.get(title="Welfare").pk)

    response = client.get(f"{EVENTS}/{event.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["seats_left"] == 99
    assert [(t["title"], t["capacity"], t["seats_left"]) for t in body["tables"]] == [
        ("Welfare", 2, 1), ("Smart working", 5, 5)]
    assert [s["title"] for s in body["sessions"]] == ["Apertura"]
    assert body["questions"] == [{"id": question.pk, "label": "Dieta?", "kind": "single",
                                  "choices": ["vegana", "nessuna"], "is_required": False}]
    assert "segreto" not in response.content.decode()  # the link goes to registered people only


@pytest.mark.django_db
def test_an_unpublished_event_is_not_found(client, territory):
    event = make_event(territory, is_published=False)

    assert_error(client.get(f"{EVENTS}/{event.pk}"), 404, "not_found")
    assert_error(post(client, registrations_url(event), signup()), 404, "not_found")
    assert Registration.objects.count() == 0


# Registering


@pytest.mark.django_db
def test_registrations_are_confirmed_while_seats_last_then_waitlisted(client, territory, django_capture_on_commit_callbacks):
    event = make_event(territory, capacity=1)

    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, registrations_url(event), signup(1))
    second = post(client, registrations_url(event), signup(2))

    assert first.status_code == 201, first.content
    confirmed = Registration.objects.get(email="persona1@example.org")
    assert first.json()["status"] == "confirmed"
    assert first.json()["ticket_code"] == confirmed.ticket_code
    assert first.json()["token"] == str(confirmed.token)
    assert first.json()["registration_url"].endswith(f"/iscrizioni/{confirmed.token}/")
    assert confirmed.ticket_code in mail.outbox[0].body
    assert second.status_code == 201
    assert second.json()["status"] == "waitlisted"
    assert second.json()["ticket_code"] is None
    event.refresh_from_db()
    assert event.seats_taken == 1


@pytest.mark.django_db
def test_a_registration_reads_the_event_once_and_nothing_else(client, territory, django_capture_on_commit_callbacks):
    # events/api.py reads only the event's columns that registering needs: one more read (a field
    # loaded lazily, the territory for the audit row) would be one more query per person in a rush.
    event = make_event(territory)

    with django_capture_on_commit_callbacks() as after_commit, CaptureQueriesContext(connection) as queries:
        response = post(client, registrations_url(event), signup(1))

    assert response.status_code == 201, response.content
    reads = [query["sql"] for query in queries.captured_queries if query["sql"].lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and '"events_event"' in reads[0], reads
    assert Registration.objects.get().status == Registration.Status.CONFIRMED
    assert AuditLog.objects.get(action="registration.confirmed").territory == territory
    with django_capture_on_commit_callbacks(execute=True):
        for callback in after_commit:
            callback()
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_same_email_in_another_case_is_already_registered(client, territory):
    event = make_event(territory)
    post(client, registrations_url(event), signup(1))

    response = post(client, registrations_url(event), signup(1, email="PERSONA1@Example.ORG"))

    body = assert_error(response, 409, "already_registered")
    assert "email" in body["fields"]
    assert Registration.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda body: body.pop("privacy_acknowledged"), "privacy_acknowledged"),
        (lambda body: body.update(privacy_acknowledged=False), "privacy_acknowledged"),
        (lambda body: body.update(email="non-una-email"), "email"),
        (lambda body: body.update(first_name=""), "first_name"),
        (lambda body: body.update(last_name="Ros\x00si"), "last_name"),
        (lambda body: body["answers"].pop("required"), "answers.required"),
        (lambda body: body["answers"].update(required="forse"), "answers.required"),
        (lambda body: body["answers"].update(required=["yes"]), "answers.required"),
        (lambda body: body["answers"].update({"999999": "?"}), "answers.999999"),
        (lambda body: body["answers"].update(multiple="pranzo"), "answers.multiple"),
        (lambda body: body["answers"].update(multiple=["merenda"]), "answers.multiple"),
        (lambda body: body.update(table_id=1), "table_id"),
        (lambda body: body.update(preferences=[1]), "preferences"),
    ],
)
def test_invalid_registrations_answer_422_naming_the_field_and_store_nothing(client, territory, change, field):
    event = make_event(territory, capacity=5)
    required = Question.objects.create(event=event, label="Smart working?", kind="yes_no", is_required=True)
    multiple = Question.objects.create(event=event, label="Pasti", kind="multiple", choices=["pranzo", "cena"])
    body = signup(1, answers={"required": "yes", "multiple": ["pranzo"]})
    change(body)
    ids = {"required": str(required.pk), "multiple": str(multiple.pk)}
    body["answers"] = {ids.get(key, key): value for key, value in body["answers"].items()}
    field = field.replace("required", ids["required"]).replace("multiple", ids["multiple"])

    response = post(client, registrations_url(event), body)

    body = assert_error(response, 422, "invalid_input")
    assert list(body["fields"]) == [field]
    assert body["fields"][field][0]
    assert Registration.objects.count() == 0
    event.refresh_from_db()
    assert event.seats_taken == 0


@pytest.mark.django_db
def test_a_missing_privacy_acknowledgement_is_explained_in_the_callers_language(client, territory):
    event = make_event(territory)

    response = post(client, registrations_url(event), signup(1, privacy_acknowledged=False), HTTP_ACCEPT_LANGUAGE="en")

    assert "acknowledge the privacy notice" in response.json()["fields"]["privacy_acknowledged"][0]


@pytest.mark.django_db
def test_answers_tables_and_preferences_are_stored_as_the_web_form_stores_them(client, territory):
    first_come = make_event(territory, tables=[("Welfare", 1)], table_mode="first_come")
    ranked = make_event(territory, tables=[("A", 5), ("B", 5), ("C", 5)], table_mode="ranked")
    yes_no = Question.objects.create(event=first_come, label="Smart working?", kind="yes_no")
    welfare = first_come.tables.get()
    b, c = ranked.tables.get(title="B"), ranked.tables.get(title="C")

    seated = post(client, registrations_url(first_come), signup(1, table_id=welfare.pk, answers={str(yes_no.pk): True}))
    waiting = post(client, registrations_url(first_come), signup(2, table_id=welfare.pk))
    ranking = post(client, registrations_url(ranked), signup(3, preferences=[c.pk, b.pk]))

    assert seated.json()["table"] == {"id": welfare.pk, "title": "Welfare"}
    assert Registration.objects.get(email="persona1@example.org").answers == {
        str(yes_no.pk): {"question": "Smart working?", "answer": "yes"}}
    assert (waiting.json()["table"], waiting.json()["waiting_table"]) == (None, {"id": welfare.pk, "title": "Welfare"})
    assert ranking.status_code == 201
    assert list(TablePreference.objects.order_by("rank").values_list("table_id", flat=True)) == [c.pk, b.pk]


@pytest.mark.django_db
def test_ranking_a_table_twice_is_refused(client, territory):
    event = make_event(territory, tables=[("A", 5), ("B", 5)], table_mode="ranked")
    a = event.tables.get(title="A")

    response = post(client, registrations_url(event), signup(1, preferences=[a.pk, a.pk]))

    assert_error(response, 422, "invalid_input")
    assert Registration.objects.count() == 0


@pytest.mark.django_db
def test_registration_outside_its_window_is_closed(client, territory):
    event = make_event(territory, registration_closes_at=timezone.now() - timedelta(minutes=1))

    assert_error(post(client, registrations_url(event), signup()), 409, "registration_closed")
    assert Registration.objects.count() == 0


@pytest.mark.django_db
def test_registrations_are_rate_limited_per_address_with_retry_after(client, territory):
    from events.views import REGISTRATION_LIMIT_PER_MINUTE

    event = make_event(territory)
    for _ in range(REGISTRATION_LIMIT_PER_MINUTE):
        post(client, registrations_url(event), {})  # cheap: refused by the schema, still counted

    response = post(client, registrations_url(event), signup(1))

    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
    assert Registration.objects.count() == 0
    assert post(client, registrations_url(event), signup(1), REMOTE_ADDR="192.0.2.7").status_code == 201
    # Registrations have their own allowance: they do not use up the join-request one.
    assert post(client, "/api/v1/join-requests", {}).status_code == 422


@pytest.mark.django_db
def test_rate_limits_can_be_lifted_for_load_tests(client, territory, settings):
    from events.views import REGISTRATION_LIMIT_PER_MINUTE

    settings.RATELIMIT_ENABLED = False
    event = make_event(territory)
    for _ in range(REGISTRATION_LIMIT_PER_MINUTE):
        post(client, registrations_url(event), {})

    assert post(client, registrations_url(event), signup(1)).status_code == 201


# Idempotent retries


@pytest.mark.django_db
def test_a_retry_with_the_same_key_gets_the_first_answer_and_registers_once(client, territory):
    event = make_event(territory, capacity=1)
    key = {"HTTP_IDEMPOTENCY_KEY": "4f0c2a52-retry"}

    first = post(client, registrations_url(event), signup(1), **key)
    again = post(client, registrations_url(event), signup(1), **key)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Registration.objects.count() == 1
    event.refresh_from_db()
    assert event.seats_taken == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused(client, territory):
    event = make_event(territory)
    key = {"HTTP_IDEMPOTENCY_KEY": "chiave-1"}
    post(client, registrations_url(event), signup(1), **key)

    response = post(client, registrations_url(event), signup(2), **key)

    assert_error(response, 422, "idempotency_key_reused")
    assert list(Registration.objects.values_list("email", flat=True)) == ["persona1@example.org"]


@pytest.mark.django_db
def test_a_refused_request_does_not_use_up_its_key(client, territory):
    event = make_event(territory)
    key = {"HTTP_IDEMPOTENCY_KEY": "chiave-2"}

    refused = post(client, registrations_url(event), signup(1, email="sbagliata"), **key)
    corrected = post(client, registrations_url(event), signup(1), **key)

    assert refused.status_code == 422
    assert corrected.status_code == 201
    assert Registration.objects.count() == 1


@pytest.mark.django_db
def test_keys_belong_to_one_client_address(client, territory):
    event = make_event(territory)
    key = {"HTTP_IDEMPOTENCY_KEY": "la-stessa"}

    mine = post(client, registrations_url(event), signup(1), **key)
    theirs = post(client, registrations_url(event), signup(2), REMOTE_ADDR="192.0.2.7", **key)

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert Registration.objects.count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_key_sent_many_times_at_once_registers_once(territory):
    event = make_event(territory, capacity=5)
    workers = 8
    barrier = threading.Barrier(workers)
    body = json.dumps(signup(1))

    def send(_):
        try:
            barrier.wait(timeout=30)
            return Client().post(registrations_url(event), body, content_type="application/json",
                                 HTTP_IDEMPOTENCY_KEY="doppio-clic")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        responses = list(pool.map(send, range(workers)))

    assert [r.status_code for r in responses] == [201] * workers, [r.content for r in responses]
    assert len({r.content for r in responses}) == 1
    assert Registration.objects.filter(event=event).count() == 1
    event.refresh_from_db()
    assert event.seats_taken == 1
    assert IdempotencyKey.objects.get().response_status == 201


# Cancelling by token


@pytest.mark.django_db
def test_cancelling_by_token_gives_the_seat_to_the_waiting_list(client, territory):
    event = make_event(territory, capacity=1)
    first = post(client, registrations_url(event), signup(1)).json()
    second = post(client, registrations_url(event), signup(2)).json()
    assert second["status"] == "waitlisted"

    response = client.post(f"/api/v1/registrations/{first['token']}/cancel")
    promoted = client.get(f"/api/v1/registrations/{second['token']}")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["ticket_code"] is None
    assert promoted.json()["status"] == "confirmed"
    assert promoted.json()["ticket_code"]
    assert client.post(f"/api/v1/registrations/{first['token']}/cancel").json()["status"] == "cancelled"
    event.refresh_from_db()
    assert event.seats_taken == 1


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["00000000-0000-0000-0000-000000000000", "non-un-token"])
def test_an_unknown_token_is_not_found(client, territory, token):
    assert_error(client.post(f"/api/v1/registrations/{token}/cancel"), 404, "not_found")


# Creating events


def new_event(**overrides) -> dict:
    starts = timezone.now() + timedelta(days=30)
    body = {
        "territory": "milano",
        "slug": "forum-conciliazione",
        "title": "Forum della conciliazione",
        "summary": "Una giornata di lavoro della rete.",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=6)).isoformat(),
        "capacity": 80,
        "table_mode": "first_come",
        "offer_hours": 24,
        "is_published": True,
        "sessions": [{"title": "Apertura", "starts_at": starts.isoformat(),
                      "ends_at": (starts + timedelta(hours=1)).isoformat(), "room": "Sala A"}],
        "tables": [{"title": "Welfare aziendale", "capacity": 20}, {"title": "Tempi della città", "capacity": 15}],
        "questions": [{"label": "Dieta", "kind": "single", "choices": ["onnivora", "vegetariana"],
                       "is_required": True}],
    }
    return body | overrides


@pytest.mark.django_db
def test_a_coordinator_creates_an_event_with_its_programme_tables_and_questions(client, personas, firm):
    response = post(client, EVENTS, new_event(organisers=[firm.pk]), **bearer(personas["coordinator"]))

    assert response.status_code == 201, response.content
    body = response.json()
    event = Event.objects.get(slug="forum-conciliazione")
    assert body["id"] == event.pk
    assert (body["capacity"], body["seats_left"], body["offer_hours"]) == (80, 80, 24)
    assert [(t["title"], t["seats_left"]) for t in body["tables"]] == [("Welfare aziendale", 20), ("Tempi della città", 15)]
    assert body["questions"][0]["choices"] == ["onnivora", "vegetariana"]
    assert body["organisers"] == [{"id": firm.pk, "name": "Officine Test"}]
    assert client.get(f"{EVENTS}/{event.pk}").json()["sessions"][0]["room"] == "Sala A"
    # The web form of the new event asks its question.
    question = event.questions.get()
    refused = post(client, registrations_url(event), signup(1))
    assert list(refused.json()["fields"]) == [f"answers.{question.pk}"]
    assert AuditLog.objects.filter(action="event.created", object_id=str(event.pk),
                                   actor=personas["coordinator"]).exists()


@pytest.mark.django_db
def test_without_a_slug_the_event_takes_one_from_its_title(client, personas):
    headers = bearer(personas["coordinator"])

    first = post(client, EVENTS, new_event(slug=""), **headers)
    second = post(client, EVENTS, new_event(slug=""), **headers)

    assert (first.json()["slug"], second.json()["slug"]) == ("forum-della-conciliazione", "forum-della-conciliazione-2")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["org_admin", "org_staff", "worker", "provider_staff", "helpdesk", "outsider"])
def test_only_coordinators_create_events(client, personas, persona):
    response = post(client, EVENTS, new_event(), **bearer(personas[persona]))

    assert_error(response, 403, "forbidden")
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_a_coordinator_of_another_territory_cannot_create_events_here(client, territory, other_coordinator):
    assert_error(post(client, EVENTS, new_event(), **bearer(other_coordinator)), 403, "forbidden")
    assert post(client, EVENTS, new_event(territory="bergamo"), **bearer(other_coordinator)).status_code == 201
    assert list(Event.objects.values_list("territory__slug", flat=True)) == ["bergamo"]


@pytest.mark.django_db
def test_creating_events_needs_a_token(client, territory):
    assert_error(post(client, EVENTS, new_event()), 401, "unauthorized")


@pytest.mark.django_db
def test_a_slug_already_used_in_the_territory_conflicts(client, personas):
    headers = bearer(personas["coordinator"])
    post(client, EVENTS, new_event(), **headers)

    response = post(client, EVENTS, new_event(title="Un altro"), **headers)

    body = assert_error(response, 409, "already_exists")
    assert list(body["fields"]) == ["slug"]
    assert Event.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (lambda b: {"ends_at": b["starts_at"]}, "ends_at"),
        (lambda b: {"starts_at": b["starts_at"][:19]}, "starts_at"),  # no offset
        (lambda b: {"starts_at": "9999-12-31T23:00:00-05:00"}, "starts_at"),
        (lambda b: {"capacity": 0}, "capacity"),
        (lambda b: {"capacity": 10**30}, "capacity"),
        (lambda b: {"slug": "con spazi"}, "slug"),
        (lambda b: {"title": "Forum\x00"}, "title"),
        (lambda b: {"online_url": "non un link"}, "online_url"),
        (lambda b: {"tables": [{"title": "Vuoto", "capacity": 0}]}, "tables.0.capacity"),
        (lambda b: {"questions": [{"label": "Dieta", "kind": "single"}]}, "questions.0.choices"),
        (lambda b: {"questions": [{"label": "Dieta", "kind": "single", "choices": ["a\nb"]}]}, "questions.0.choices.0"),
        (lambda b: {"tables": [{"title": "Welfare", "capacity": 5, "facilitator_email": "x@example.org"}]},
         "tables.0.facilitator_email"),
        (lambda b: {"latitude": 45.46}, "longitude"),
        (lambda b: {"slug": "nuovo"}, "slug"),
        (lambda b: {"sessions": [{**b["sessions"][0], "ends_at": b["starts_at"]}]}, "sessions.0.ends_at"),
        (lambda b: {"registration_opens_at": b["starts_at"], "registration_closes_at": b["starts_at"]},
         "registration_closes_at"),
        # Registration closes with the event at the latest: a later date would be shown and never apply.
        (lambda b: {"registration_closes_at": "2099-01-01T10:00:00+01:00"}, "registration_closes_at"),
        (lambda b: {"registration_opens_at": b["ends_at"]}, "registration_opens_at"),
        (lambda b: {"organisers": [10**6]}, "organisers"),
        (lambda b: {"territory": "atlantide"}, "territory"),
    ],
)
def test_invalid_events_answer_422_naming_the_field_and_store_nothing(client, personas, overrides, field):
    body = new_event()
    body |= overrides(body)

    response = post(client, EVENTS, body, **bearer(personas["coordinator"]))

    body = assert_error(response, 422, "invalid_input")
    assert list(body["fields"]) == [field]
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_an_organisation_of_another_territory_cannot_organise_here(client, personas, other_territory):
    from conftest import make_organisation

    elsewhere = make_organisation(other_territory, "Impresa di Bergamo")

    response = post(client, EVENTS, new_event(organisers=[elsewhere.pk]), **bearer(personas["coordinator"]))

    assert list(assert_error(response, 422, "invalid_input")["fields"]) == ["organisers"]


# Staff: check-in and the registrations list


def check_in(client, event, code: str, user):
    return post(client, f"{EVENTS}/{event.pk}/check-ins", {"ticket_code": code}, **bearer(user))


@pytest.mark.django_db
def test_check_in_welcomes_once_then_says_already_checked_in(client, personas, territory, firm):
    event = make_event(territory, tables=[("Welfare", 10)], table_mode="first_come")
    event.organisers.add(firm)
    reg = services.register_attendee(event=event, data=person(1), table_id=event.tables.get().pk)

    first = check_in(client, event, reg.ticket_code.lower(), personas["org_staff"])
    second = check_in(client, event, reg.ticket_code, personas["coordinator"])

    assert first.status_code == 200
    assert first.json() | {"checked_in_at": None} == {
        "result": "checked_in", "registration": reg.pk, "name": "Persona1 Prova", "organisation_name": "",
        "table": "Welfare", "checked_in_at": None}
    assert second.status_code == 200
    assert second.json()["result"] == "already_checked_in"
    assert second.json()["checked_in_at"] == first.json()["checked_in_at"]
    reg.refresh_from_db()
    assert reg.checked_in_by == personas["org_staff"]


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["outsider", "worker", "provider_staff", "org_staff"])
def test_who_does_not_work_on_the_event_cannot_check_in(client, personas, territory, persona):
    event = make_event(territory)  # organised by nobody: org_staff of Officine Test has no part in it
    reg = services.register_attendee(event=event, data=person(1))

    assert_error(check_in(client, event, reg.ticket_code, personas[persona]), 403, "forbidden")
    reg.refresh_from_db()
    assert reg.checked_in_at is None


@pytest.mark.django_db
def test_a_coordinator_of_another_territory_cannot_check_in(client, territory, other_coordinator):
    event = make_event(territory)
    reg = services.register_attendee(event=event, data=person(1))

    assert_error(check_in(client, event, reg.ticket_code, other_coordinator), 403, "forbidden")


@pytest.mark.django_db
def test_unknown_and_waitlisted_tickets_are_not_let_in(client, personas, territory):
    event = make_event(territory, capacity=1)
    services.register_attendee(event=event, data=person(1))
    waiting = services.register_attendee(event=event, data=person(2))
    other_event = make_event(territory)
    elsewhere = services.register_attendee(event=other_event, data=person(3))
    coordinator = personas["coordinator"]

    assert_error(check_in(client, event, "ZZZZZZZZ", coordinator), 404, "ticket_not_found")
    assert_error(check_in(client, event, elsewhere.ticket_code, coordinator), 404, "ticket_not_found")
    assert_error(check_in(client, event, waiting.ticket_code, coordinator), 409, "not_confirmed")
    waiting.refresh_from_db()
    assert waiting.checked_in_at is None


@pytest.mark.django_db
def test_a_draft_event_is_not_found_by_who_may_not_work_on_it(client, personas, territory):
    draft = make_event(territory, is_published=False)

    assert_error(check_in(client, draft, "ZZZZZZZZ", personas["outsider"]), 404, "not_found")
    assert_error(client.get(registrations_url(draft), **bearer(personas["outsider"])), 404, "not_found")


@pytest.mark.django_db
def test_coordinators_list_registrations_by_status(client, personas, territory):
    event = make_event(territory, capacity=1)
    first = services.register_attendee(event=event, data=person(1, accessibility_needs="Interprete LIS"))
    second = services.register_attendee(event=event, data=person(2))
    headers = bearer(personas["coordinator"])

    everyone = client.get(registrations_url(event), **headers).json()
    waiting = client.get(registrations_url(event), {"status": "waitlisted"}, **headers).json()

    assert [r["id"] for r in everyone["items"]] == [first.pk, second.pk]
    assert everyone["items"][0]["accessibility_needs"] == "Interprete LIS"
    assert everyone["items"][0]["ticket_code"] == first.ticket_code
    assert "token" not in everyone["items"][0]
    assert [r["id"] for r in waiting["items"]] == [second.pk]
    assert (waiting["count"], waiting["pages"]) == (1, 1)
    assert_error(client.get(registrations_url(event), {"status": "forse"}, **headers), 422, "invalid_input")


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["org_admin", "org_staff", "outsider"])
def test_the_registrations_list_is_for_coordinators_only(client, personas, territory, firm, persona):
    event = make_event(territory)
    event.organisers.add(firm)
    services.register_attendee(event=event, data=person(1))

    assert_error(client.get(registrations_url(event), **bearer(personas[persona])), 403, "forbidden")


# The published description


@pytest.mark.django_db
def test_openapi_lists_the_events_operations_and_the_idempotency_header(client):
    schema = client.get("/api/v1/openapi.json").json()

    operations = {op["operationId"]: (path, method) for path, item in schema["paths"].items()
                  for method, op in item.items()}
    assert {
        "events_list_events", "events_get_event", "events_create_event", "events_register",
        "events_get_registration", "events_cancel_registration", "events_check_in", "events_list_registrations",
        "events_undo_check_in",
    } <= set(operations)
    assert operations["events_undo_check_in"] == ("/api/v1/events/{event_id}/check-ins/{ticket_code}", "delete")
    assert operations["events_register"] == ("/api/v1/events/{event_id}/registrations", "post")
    register = schema["paths"]["/api/v1/events/{event_id}/registrations"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in register["parameters"]]
    assert register["tags"] == ["events"]


@pytest.mark.django_db
@pytest.mark.parametrize("field, value", [
    ("organisers", [9223372036854775808]),  # past any key column: 422, never a driver's OverflowError
    ("organisers", [0]),
    ("retention_days", 999999999),  # purge_after would overflow the calendar
    ("retention_days", 0),
])
def test_out_of_range_numbers_are_bad_input(client, personas, field, value):
    response = post(client, EVENTS, new_event(**{field: value}), **bearer(personas["coordinator"]))

    body = assert_error(response, 422, "invalid_input")
    assert field in {name.split(".")[0] for name in body["fields"]}
    assert Event.objects.count() == 0
