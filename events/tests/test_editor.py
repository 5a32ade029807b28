"""The coordinator's event editor: who may use it, what it refuses, and the seats it moves."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from conftest import make_organisation
from core.models import AuditLog
from events import services
from events.models import Event, Question, Registration, Session, WorkingTable

from .factories import make_event, person


class _FormFields(HTMLParser):
    """What a browser would submit from each POST form of a page: every named field as shown."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict[str, list[str]]] = []
        self.data: dict[str, list[str]] | None = None
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self.data = {}
            self.forms.append(self.data)
        if self.data is None:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data.setdefault(name, []).append(attrs.get("value") or "on")
            else:
                self.data.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, [])
        elif tag == "option" and self._select and "selected" in attrs:
            self.data[self._select] = [attrs.get("value") or ""]
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = [""]

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            # Browsers drop the newline that follows <textarea>.
            self.data[self._textarea][0] = self.data[self._textarea][0].removeprefix("\n")
            self._textarea = None
        elif tag == "form":
            self.data = None


def form_data(client, url: str, **changes) -> dict:
    """The editor's form as the page shows it (the biggest form on the page), with `changes`."""
    response = client.get(url)
    assert response.status_code == 200
    return page_form(response.content.decode()) | changes


def page_form(html: str) -> dict:
    """What a browser would send from the biggest POST form of `html`."""
    parser = _FormFields()
    parser.feed(html)
    fields = max(parser.forms, key=len)
    data = {name: values if len(values) > 1 else (values[0] if values else "") for name, values in fields.items()}
    data.pop("csrfmiddlewaretoken", None)
    return data


def new_url(territory):
    return reverse("events:new", kwargs={"territory": territory.slug})


def edit_url(event):
    return reverse("events:edit", kwargs={"territory": event.territory.slug, "slug": event.slug})


def local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


START = timezone.now().replace(microsecond=0, second=0) + timedelta(days=30)


def new_event_data(client, territory, **changes) -> dict:
    data = form_data(client, new_url(territory))
    data.update({
        "title": "Laboratorio di idee", "summary": "Tavoli di lavoro sul welfare in rete.", "mode": "in_person",
        "starts_at": local(START), "ends_at": local(START + timedelta(hours=6)), "capacity": "80",
        "table_mode": "first_come", "retention_days": "180", "is_published": "on",
    })
    data.update(changes)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize("persona, status", [
    ("coordinator", 200), ("org_admin", 403), ("org_staff", 403), ("worker", 403), ("provider_staff", 403),
    ("helpdesk", 403), ("outsider", 403),
])
def test_who_may_open_the_editor(client_as, personas, territory, persona, status):
    event = make_event(territory)
    client = client_as(personas[persona])
    assert client.get(new_url(territory)).status_code == status
    assert client.get(edit_url(event)).status_code == status


@pytest.mark.django_db
def test_the_map_picker_writes_coordinates_the_way_the_fields_read_them(client_as, personas, territory):
    # The event form reads 45,464200 in Italian (localized fields), 45.464200 in English.
    client = client_as(personas["coordinator"])
    italian = client.get(new_url(territory)).content.decode()
    assert 'data-location-picker data-lat="id_latitude" data-lon="id_longitude" data-decimal=","' in italian
    assert 'data-center-lat="45.464200"' in italian and "js/location-picker.js" in italian
    english = client.get(new_url(territory), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-decimal="."' in english


@pytest.mark.django_db
def test_a_coordinator_of_another_territory_and_a_visitor_may_not_edit(client_as, territory, other_coordinator):
    event = make_event(territory)
    client = client_as(other_coordinator)
    assert client.get(new_url(territory)).status_code == 403
    assert client.post(edit_url(event), {"title": "Preso"}).status_code == 403
    visitor = client_as(None)
    response = visitor.get(edit_url(event))
    assert response.status_code == 302 and "/account/login/" in response["Location"]
    event.refresh_from_db()
    assert event.title != "Preso"


@pytest.mark.django_db
def test_staff_of_an_organiser_cannot_create_an_event_by_posting(client_as, personas, territory, firm):
    event = make_event(territory)
    event.organisers.add(firm)
    response = client_as(personas["org_admin"]).post(new_url(territory), {"title": "Il mio evento"})
    assert response.status_code == 403
    assert Event.objects.count() == 1


@pytest.mark.django_db
def test_links_to_the_editor_are_shown_to_coordinators_only(client_as, personas, territory):
    event = make_event(territory)
    draft = make_event(territory, is_published=False)
    list_url = reverse("events:event_list", kwargs={"territory": territory.slug})
    coordinator = client_as(personas["coordinator"])
    page = coordinator.get(list_url).content.decode()
    assert new_url(territory) in page and edit_url(draft) in page  # drafts are listed for coordinators
    assert edit_url(event) in coordinator.get(event.get_absolute_url()).content.decode()
    manage = reverse("events:manage", kwargs={"territory": territory.slug, "slug": event.slug})
    assert edit_url(event) in coordinator.get(manage).content.decode()
    visitor = client_as(personas["org_staff"])
    assert new_url(territory) not in visitor.get(list_url).content.decode()
    assert edit_url(event) not in visitor.get(event.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_a_coordinator_creates_an_event_with_programme_tables_and_questions(client_as, personas, territory, firm, coop):
    client = client_as(personas["coordinator"])
    data = new_event_data(
        client, territory, organisers=[str(firm.pk), str(coop.pk)], latitude="45,4642", longitude="9.19",
        **{
            "sessions-0-title": "Saluti", "sessions-0-starts_at": local(START),
            "sessions-0-ends_at": local(START + timedelta(minutes=30)),
            "tables-0-title": "Welfare in rete", "tables-0-capacity": "20", "tables-0-position": "1",
            "tables-0-facilitator_email": "ORG_STAFF@example.org",
            "tables-1-title": "Diversity & Inclusion", "tables-1-capacity": "15", "tables-1-position": "2",
            "questions-0-label": "Dimensione dell'impresa?", "questions-0-kind": "single",
            "questions-0-choices_text": "1-9\n10-49\n\n10-49\n50+", "questions-0-position": "1",
            "questions-1-label": "Note", "questions-1-kind": "text", "questions-1-choices_text": "ignorata",
        },
    )
    response = client.post(new_url(territory), data)

    event = Event.objects.get(territory=territory)
    assert response.status_code == 302 and response["Location"] == edit_url(event)
    assert event.slug == "laboratorio-di-idee"
    assert str(event.latitude) == "45.464200" and str(event.longitude) == "9.190000"
    assert set(event.organisers.all()) == {firm, coop}
    assert [s.title for s in event.sessions.all()] == ["Saluti"]
    welfare, diversity = event.tables.order_by("position")
    assert welfare.facilitator == personas["org_staff"] and diversity.facilitator is None
    single = event.questions.get(kind="single")
    assert single.choices == ["1-9", "10-49", "50+"]
    assert event.questions.get(kind="text").choices == []
    log = AuditLog.objects.get(action="event.created")
    assert log.actor == personas["coordinator"] and log.territory == territory


@pytest.mark.django_db
def test_saving_the_page_unchanged_changes_nothing(client_as, personas, territory, firm):
    # Seconds survive the datetime-local inputs; microseconds are not an event's business.
    starts = timezone.now().replace(microsecond=0) + timedelta(days=3)
    event = make_event(territory, starts_at=starts, latitude="45.464200", longitude="9.190000", tables=[("A", 5)])
    event.organisers.add(firm)
    Question.objects.create(event=event, label="Taglia?", kind="multiple", choices=["S", "M"])
    client = client_as(personas["coordinator"])
    before = Event.objects.values().get(pk=event.pk)

    response = client.post(edit_url(event), form_data(client, edit_url(event)))

    assert response.status_code == 302
    assert Event.objects.values().get(pk=event.pk) == before
    assert list(event.organisers.all()) == [firm]
    assert event.questions.get().choices == ["S", "M"]
    assert not AuditLog.objects.filter(action="event.updated").exists()

    # Changing one thing logs that thing, not the untouched rows the formsets hand back.
    Session.objects.create(event=event, title="Apertura", starts_at=starts, ends_at=starts + timedelta(hours=1))
    client.post(edit_url(event), form_data(client, edit_url(event), capacity="150"))
    (entry,) = AuditLog.objects.filter(action="event.updated")
    assert set(entry.changes) == {"capacity"}


@pytest.mark.django_db
def test_an_event_made_through_the_api_saved_unchanged_in_the_editor_mails_nobody(
    client_as, personas, territory, django_capture_on_commit_callbacks
):
    from django.core import mail

    from accounts.models import ApiToken

    _token, key = ApiToken.issue(user=personas["coordinator"], name="agenda")
    starts = timezone.now() + timedelta(days=20)  # with microseconds, as a client's clock gives them
    body = {"territory": "milano", "title": "Forum", "summary": "Giornata.", "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(), "capacity": 10, "is_published": True}
    client = client_as(None)
    created = client.post("/api/v1/events", body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert created.status_code == 201, created.content
    event = Event.objects.get(pk=created.json()["id"])
    assert event.starts_at == starts.replace(microsecond=0)
    services.register_attendee(event=event, data=person(1))
    client = client_as(personas["coordinator"])
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(edit_url(event), form_data(client, edit_url(event))).status_code == 302
    assert mail.outbox == []
    event.refresh_from_db()
    assert event.calendar_sequence == 0


@pytest.mark.django_db
def test_the_slug_comes_from_the_title_and_stays_unique_in_the_territory(client_as, personas, territory):
    Event.objects.filter(pk=make_event(territory).pk).update(slug="laboratorio-di-idee")
    client = client_as(personas["coordinator"])
    client.post(new_url(territory), new_event_data(client, territory))
    assert Event.objects.filter(territory=territory, slug="laboratorio-di-idee-2").exists()
    client.post(new_url(territory), new_event_data(client, territory, title="Nuovo"))
    assert Event.objects.filter(territory=territory, slug="nuovo-2").exists()  # "nuovo" is the editor's own URL

    response = client.post(new_url(territory), new_event_data(client, territory, slug="laboratorio-di-idee"))
    assert response.status_code == 422
    assert "usa già questo identificativo" in response.content.decode()
    assert Event.objects.filter(territory=territory).count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("changes, field, message", [
    ({"ends_at": local(START - timedelta(hours=1))}, "ends_at", "La fine deve essere dopo l&#x27;inizio."),
    ({"capacity": "0"}, "capacity", "Indica almeno un posto."),
    ({"latitude": "45,46"}, "longitude", "Indica sia la latitudine sia la longitudine."),
    ({"questions-0-label": "Settore?", "questions-0-kind": "multiple", "questions-0-choices_text": "Solo una"},
     "questions-0-choices_text", "almeno due opzioni"),
    ({"tables-0-title": "A", "tables-0-capacity": "5", "tables-0-facilitator_email": "coordinator@bergamo.example.org"},
     "tables-0-facilitator_email", "Nessuna persona della rete di questo territorio"),
    ({"sessions-0-title": "Apertura", "sessions-0-starts_at": local(START), "sessions-0-ends_at": local(START)},
     "sessions-0-ends_at", "La fine deve essere dopo l&#x27;inizio."),
    # The programme shows times, not dates: a session on another day would look like part of the event.
    ({"sessions-0-title": "Apertura", "sessions-0-starts_at": local(START + timedelta(days=1)),
      "sessions-0-ends_at": local(START + timedelta(days=1, hours=1))},
     "sessions-0-starts_at", "La sessione deve stare dentro l&#x27;evento"),
    ({"starts_at": "0001-01-01T00:00"}, "starts_at", "Indica una data tra il 2000 e il 2100"),
    ({"ends_at": "9999-12-31T23:59"}, "ends_at", "Indica una data tra il 2000 e il 2100"),
    ({"registration_opens_at": "0001-01-01T01:00"}, "registration_opens_at", "Indica una data tra il 2000 e il 2100"),
    ({"registration_closes_at": "0001-01-01"}, "registration_closes_at", "Indica una data tra il 2000 e il 2100"),
    ({"sessions-0-title": "Apertura", "sessions-0-starts_at": "0001-01-01T00:00",
      "sessions-0-ends_at": local(START + timedelta(hours=1))}, "sessions-0-starts_at", "Indica una data tra il 2000"),
])
def test_bad_input_is_refused_next_to_its_field_and_nothing_is_saved(
    client_as, personas, territory, other_coordinator, changes, field, message
):
    client = client_as(personas["coordinator"])
    response = client.post(new_url(territory), new_event_data(client, territory, **changes))
    assert response.status_code == 422
    page = response.content.decode()
    assert f'id="id_{field}-error">' in page
    assert message in page.split(f'id="id_{field}-error">', 1)[1].split("</div>", 1)[0]
    assert not Event.objects.exists() and not AuditLog.objects.exists()


@pytest.mark.django_db
def test_organisers_come_from_the_same_territory_only(client_as, personas, territory, other_territory):
    elsewhere = make_organisation(other_territory, "Impresa di Bergamo")
    event = make_event(territory)
    client = client_as(personas["coordinator"])
    assert "Impresa di Bergamo" not in client.get(edit_url(event)).content.decode()
    response = client.post(edit_url(event), form_data(client, edit_url(event), organisers=[str(elsewhere.pk)]))
    assert response.status_code == 422
    assert not event.organisers.exists()


@pytest.mark.django_db
def test_capacity_below_the_seats_taken_is_refused_and_nothing_changes(client_as, personas, territory):
    event = make_event(territory, capacity=5, offer_hours=24)
    for n in range(4):
        services.register_attendee(event=event, data=person(n))
    client = client_as(personas["coordinator"])
    data = form_data(client, edit_url(event), capacity="3", title="Titolo cambiato")

    response = client.post(edit_url(event), data)

    assert response.status_code == 422
    page = response.content.decode()
    assert "Ci sono già 4 posti occupati" in page.split('id="id_capacity-error">', 1)[1]
    event.refresh_from_db()
    assert (event.capacity, event.title) == (5, "Evento " + event.slug.removeprefix("evento-"))
    assert not AuditLog.objects.filter(action="event.updated").exists()


@pytest.mark.django_db
def test_more_seats_go_at_once_to_the_waiting_list_in_order(client_as, personas, territory):
    event = make_event(territory, capacity=2)
    people = [services.register_attendee(event=event, data=person(n)) for n in range(5)]
    assert [p.status for p in people].count("waitlisted") == 3
    client = client_as(personas["coordinator"])

    response = client.post(edit_url(event), form_data(client, edit_url(event), capacity="4"), follow=True)

    assert "2 persone in lista d&#x27;attesa hanno ricevuto i nuovi posti" in response.content.decode()
    event.refresh_from_db()
    assert event.capacity == 4 and event.seats_taken == 4
    statuses = dict(Registration.objects.filter(event=event).values_list("email", "status"))
    assert statuses["persona2@example.org"] == statuses["persona3@example.org"] == "confirmed"
    assert statuses["persona4@example.org"] == "waitlisted"
    log = AuditLog.objects.get(action="event.updated")
    assert log.changes["capacity"] == [2, 4] and log.changes["promoted_from_waiting_list"] == 2


@pytest.mark.django_db
def test_with_offer_hours_the_new_seats_are_offered(client_as, personas, territory):
    event = make_event(territory, capacity=1, offer_hours=48)
    services.register_attendee(event=event, data=person(1))
    waiting = services.register_attendee(event=event, data=person(2))
    client = client_as(personas["coordinator"])
    client.post(edit_url(event), form_data(client, edit_url(event), capacity="2"))
    waiting.refresh_from_db()
    assert waiting.status == "offered" and waiting.offer_expires_at is not None


@pytest.mark.django_db
def test_a_table_cannot_shrink_below_its_seated_people_nor_be_deleted_with_them(client_as, personas, territory):
    event = make_event(territory, tables=[("Welfare", 3), ("Smart working", 3)], table_mode="first_come")
    welfare, smart = event.tables.order_by("position")
    for n in range(2):
        services.register_attendee(event=event, data=person(n), table_id=welfare.pk)
    client = client_as(personas["coordinator"])
    assert "Posti già occupati: 2." in client.get(edit_url(event)).content.decode()

    response = client.post(edit_url(event), form_data(client, edit_url(event), **{"tables-0-capacity": "1"}))
    assert response.status_code == 422
    assert "Al tavolo sono già sedute 2 persone" in response.content.decode()

    response = client.post(edit_url(event), form_data(client, edit_url(event), **{
        "tables-0-DELETE": "on", "tables-1-capacity": "10"}))
    assert response.status_code == 422
    assert "2 persone vi sono sedute o in attesa" in response.content.decode()
    welfare.refresh_from_db()
    smart.refresh_from_db()
    assert (welfare.capacity, smart.capacity) == (3, 3)  # the other table's change was not saved either

    response = client.post(edit_url(event), form_data(client, edit_url(event), **{"tables-1-DELETE": "on"}))
    assert response.status_code == 302
    assert list(event.tables.all()) == [welfare]


@pytest.mark.django_db
def test_more_seats_at_a_full_table_seat_the_people_waiting_for_it(client_as, personas, territory):
    event = make_event(territory, tables=[("Welfare", 1), ("Smart working", 5)], table_mode="first_come")
    welfare, smart = event.tables.order_by("position")
    services.register_attendee(event=event, data=person(1), table_id=welfare.pk)
    second = services.register_attendee(event=event, data=person(2), table_id=smart.pk)
    services.choose_table(registration=second, table=welfare)  # full: waits, keeping the other seat
    client = client_as(personas["coordinator"])

    client.post(edit_url(event), form_data(client, edit_url(event), **{"tables-0-capacity": "2"}))

    second.refresh_from_db()
    welfare.refresh_from_db()
    smart.refresh_from_db()
    assert second.table == welfare and second.waiting_table is None
    assert (welfare.seats_taken, smart.seats_taken) == (2, 0)


@pytest.mark.django_db
def test_editing_keeps_the_facilitators_summary_and_the_seat_counts(client_as, personas, territory):
    event = make_event(territory, tables=[("Welfare", 4)], table_mode="first_come")
    table = event.tables.get()
    services.register_attendee(event=event, data=person(1), table_id=table.pk)
    client = client_as(personas["coordinator"])
    data = form_data(client, edit_url(event), **{"tables-0-title": "Welfare in rete"})
    # The facilitator saves a summary while the coordinator has the editor open.
    WorkingTable.objects.filter(pk=table.pk).update(summary="Sintesi del facilitatore")

    assert client.post(edit_url(event), data).status_code == 302

    table.refresh_from_db()
    assert (table.title, table.summary, table.seats_taken) == ("Welfare in rete", "Sintesi del facilitatore", 1)


@pytest.mark.django_db
def test_choice_questions_are_edited_one_option_per_line(client_as, personas, territory):
    event = make_event(territory)
    question = Question.objects.create(event=event, label="Pranzo?", kind="single", choices=["Sì", "No"])
    client = client_as(personas["coordinator"])
    page = client.get(edit_url(event)).content.decode()
    assert "Sì\nNo</textarea>" in page
    client.post(edit_url(event), form_data(client, edit_url(event), **{"questions-0-choices_text": "Sì\nNo\nVegetariano"}))
    question.refresh_from_db()
    assert question.choices == ["Sì", "No", "Vegetariano"]


@pytest.mark.django_db
def test_errors_speak_the_coordinators_language(client_as, personas, territory):
    event = make_event(territory, capacity=3)
    for n in range(2):
        services.register_attendee(event=event, data=person(n))
    client = client_as(personas["coordinator"])
    client.cookies["django_language"] = "en"
    response = client.post(edit_url(event), form_data(
        client, edit_url(event), capacity="1", ends_at=local(event.starts_at - timedelta(hours=1))))
    assert response.status_code == 422
    assert "The end must be after the start." in response.content.decode()
    response = client.post(edit_url(event), form_data(client, edit_url(event), capacity="1"))
    assert "2 seats are already taken" in response.content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_raising_capacity_while_people_register_never_overbooks_and_serves_the_queue_first(territory, personas):
    event = make_event(territory, capacity=10)
    early = [services.register_attendee(event=event, data=person(n)) for n in range(20)]
    queue = [r.email for r in early if r.status == "waitlisted"]
    workers = 21
    barrier = threading.Barrier(workers)

    def act(n):
        try:
            barrier.wait(timeout=30)
            if n == 0:
                data = {field: getattr(event, field) for field in services.EVENT_FIELDS} | {"capacity": 25}
                services.save_event(territory=territory, event=event, data=data, organisers=[], sessions=[],
                                    tables=[], questions=[], deleted=[], actor=personas["coordinator"])
            else:
                services.register_attendee(event=event, data=person(100 + n))
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(act, range(workers)))

    event.refresh_from_db()
    confirmed = set(Registration.objects.filter(event=event, status="confirmed").values_list("email", flat=True))
    assert event.capacity == 25 and event.seats_taken == 25 == len(confirmed)
    assert set(queue) <= confirmed  # those already waiting got the new seats before any newcomer
    assert Registration.objects.filter(event=event, status="waitlisted").count() == 40 - 25


@pytest.mark.django_db
def test_a_table_needs_at_least_one_seat(territory):
    from events.forms import WorkingTableForm

    form = WorkingTableForm(data={"title": "Tavolo vuoto", "capacity": "0", "position": "0"}, territory=territory)
    assert not form.is_valid()
    assert "capacity" in form.errors


@pytest.mark.django_db
def test_a_new_date_or_venue_is_mailed_to_everyone_registered_with_the_new_calendar(
    client_as, personas, territory, django_capture_on_commit_callbacks
):
    from django.core import mail

    event = make_event(territory, capacity=1, venue_name="Sala Vetri", starts_at=START)
    seated = services.register_attendee(event=event, data=person(1))
    services.register_attendee(event=event, data=person(2))
    gone = services.register_attendee(event=event, data=person(3))
    services.cancel_registration(registration=gone)
    Registration.objects.filter(pk=seated.pk).update(reminder_sent_at=timezone.now())
    client = client_as(personas["coordinator"])
    page = client.get(edit_url(event)).content.decode()
    assert "Avvisa per email gli iscritti" in page

    # A new description alone tells nobody.
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(edit_url(event), form_data(client, edit_url(event), description="Più dettagli."))
    assert mail.outbox == []

    earlier = event.starts_at - timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(edit_url(event), form_data(
            client, edit_url(event), venue_name="Luiss Hub, Sala Vetri", starts_at=local(earlier),
            ends_at=local(earlier + timedelta(hours=6))), follow=True)
    assert "2 iscritti ricevono per email i nuovi dettagli" in answer.content.decode()
    by_person = {m.to[0]: m for m in mail.outbox}
    assert set(by_person) == {"persona1@example.org", "persona2@example.org"}  # not the cancelled one
    for message in by_person.values():
        assert message.subject.startswith("Cambiamento:") and "Luiss Hub, Sala Vetri" in message.body
    ics = {name: content for name, content, _type in by_person["persona1@example.org"].attachments}["evento.ics"]
    ics = ics.decode() if isinstance(ics, bytes) else ics
    assert "SEQUENCE:1" in ics and "Luiss Hub" in ics
    assert by_person["persona2@example.org"].attachments == []  # still waiting: no seat to put in a calendar
    assert "ancora in lista d'attesa" in by_person["persona2@example.org"].body
    seated.refresh_from_db()
    assert seated.reminder_sent_at is None  # the new day gets its own reminder
    assert AuditLog.objects.filter(action="event.updated", changes__registrants_informed=2).exists()

    # The coordinator may choose to tell nobody (a typo in the address, say).
    mail.outbox.clear()
    data = form_data(client, edit_url(event), venue_address="Via D'Azeglio 3")
    data.pop("notify_registrants")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(edit_url(event), data)
    assert mail.outbox == []
    event.refresh_from_db()
    assert event.venue_address == "Via D'Azeglio 3" and event.calendar_sequence == 2


@pytest.mark.django_db
def test_a_start_brought_forward_schedules_the_reminder_for_the_new_day(territory, personas, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    event = make_event(territory, starts_at=timezone.now() + timedelta(days=10))
    registration = services.register_attendee(event=event, data=person(1))
    DBTaskResult.objects.all().delete()
    earlier = event.starts_at - timedelta(days=4)
    data = {field: getattr(event, field) for field in services.EVENT_FIELDS} | {
        "starts_at": earlier, "ends_at": earlier + timedelta(hours=6)}
    saved = services.save_event(territory=territory, event=event, data=data, organisers=[], sessions=[], tables=[],
                                questions=[], deleted=[], actor=personas["coordinator"])
    assert saved.informed == 1
    reminder = DBTaskResult.objects.get(task_path="events.tasks.send_reminder")
    assert reminder.args_kwargs["args"] == [registration.pk]
    assert reminder.run_after == earlier - timedelta(days=1)


@pytest.mark.django_db
def test_a_form_opened_before_another_coordinators_save_does_not_undo_it(client_as, personas, territory):
    event = make_event(territory, starts_at=START, capacity=80)
    first = client_as(personas["coordinator"])
    # A second tab (or a colleague) drew the same form before the first save.
    stale = form_data(first, edit_url(event), capacity="120")
    saved = first.post(edit_url(event), form_data(first, edit_url(event), title="Titolo corretto"))
    assert saved.status_code == 302

    refused = first.post(edit_url(event), stale)
    text = refused.content.decode()
    assert refused.status_code == 422
    assert "ha salvato questo evento" in text and "le tue modifiche non sono state salvate" in text
    event.refresh_from_db()
    assert (event.title, event.capacity) == ("Titolo corretto", 80)  # the first save stands
    assert 'value="120"' in text  # what was typed comes back

    # Saving again from the page that explained the conflict is a choice, and goes through.
    again = form_data(first, edit_url(event), capacity="120")
    again["edit_version"] = re.search(r'name="edit_version" value="(\d+)"', text).group(1)
    again["title"] = stale["title"]
    assert first.post(edit_url(event), again).status_code == 302
    event.refresh_from_db()
    assert event.capacity == 120


@pytest.mark.django_db
def test_a_stale_form_whose_session_was_deleted_meanwhile_says_so(client_as, personas, territory):
    event = make_event(territory, starts_at=START, capacity=80)
    Session.objects.create(event=event, title="Apertura", starts_at=START, ends_at=START + timedelta(hours=1))
    client = client_as(personas["coordinator"])
    stale = form_data(client, edit_url(event), capacity="120")
    # A colleague deletes the session and saves.
    fresh = form_data(client, edit_url(event))
    fresh["sessions-0-DELETE"] = "on"
    assert client.post(edit_url(event), fresh).status_code == 302
    assert not event.sessions.exists()

    refused = client.post(edit_url(event), stale)
    text = refused.content.decode()
    assert refused.status_code == 422
    assert "ha salvato questo evento" in text and "come sono ora" in text
    assert "Scegli un&#x27;opzione valida" not in text and "scelta effettuata" not in text
    assert 'value="120"' in text and "Apertura" not in text  # what was typed; the rows as they are now
    event.refresh_from_db()
    assert event.capacity == 80 and not event.sessions.exists()

    # Saving from that page is the coordinator's new decision, and goes through.
    again = page_form(text)
    assert client.post(edit_url(event), again).status_code == 302
    event.refresh_from_db()
    assert event.capacity == 120 and not event.sessions.exists()


@pytest.mark.django_db
def test_an_organiser_id_no_row_can_have_is_refused_like_any_unknown_one(client_as, personas, territory, firm):
    event = make_event(territory)
    client = client_as(personas["coordinator"])
    for tampered in (str(2**70), str(-(2**64)), "1e3"):
        response = client.post(edit_url(event), form_data(client, edit_url(event), organisers=[str(firm.pk), tampered]))
        assert response.status_code == 422, tampered
        assert 'id="id_organisers-error"' in response.content.decode()
    assert not event.organisers.exists()


@pytest.mark.django_db
def test_the_mails_of_a_moved_event_are_queued_together_and_the_worker_sends_them(
    territory, personas, settings, django_capture_on_commit_callbacks
):
    from django.core import mail
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    event = make_event(territory, capacity=2, starts_at=timezone.now() + timedelta(days=10))
    registrations = [services.register_attendee(event=event, data=person(n)) for n in range(3)]  # 2 seated, 1 waiting
    DBTaskResult.objects.all().delete()
    later = event.starts_at + timedelta(days=1)
    data = {field: getattr(event, field) for field in services.EVENT_FIELDS} | {
        "starts_at": later, "ends_at": later + timedelta(hours=6)}
    saved = services.save_event(territory=territory, event=event, data=data, organisers=[], sessions=[], tables=[],
                                questions=[], deleted=[], actor=personas["coordinator"])
    assert saved.informed == 3

    changed = DBTaskResult.objects.filter(task_path="events.tasks.send_registration_mail", args_kwargs__args__1="changed")
    assert sorted(row.args_kwargs["args"][0] for row in changed.ready()) == sorted(r.pk for r in registrations)
    reminders = DBTaskResult.objects.filter(task_path="events.tasks.send_reminder", run_after=later - timedelta(days=1))
    assert sorted(row.args_kwargs["args"][0] for row in reminders) == sorted(r.pk for r in registrations[:2])
    # What the worker does with each row it picks (its own loop closes the test's connection); a
    # mail rendered by one task is sent by the next.
    done = set()
    while ready := [row for row in DBTaskResult.objects.ready() if row.pk not in done]:
        for row in ready:
            with django_capture_on_commit_callbacks(execute=True):
                row.task.call(*row.args_kwargs["args"])
            done.add(row.pk)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.email for r in registrations)
    assert all(m.subject.startswith("Cambiamento:") for m in mail.outbox)


@pytest.mark.django_db
def test_a_tampered_hidden_field_of_the_editor_is_said_and_saves_nothing(client_as, personas, territory):
    event = make_event(territory)
    client = client_as(personas["coordinator"])
    for version in ("abc", "-1"):
        data = form_data(client, edit_url(event), title="Titolo nuovo", edit_version=version)
        response = client.post(edit_url(event), data)
        assert response.status_code == 422
        assert "ricarica la pagina e riprova" in response.content.decode()
    event.refresh_from_db()
    assert event.title != "Titolo nuovo"
