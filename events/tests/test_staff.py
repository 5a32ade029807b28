"""Check-in, the coordinator's event page, exports, badges and certificates."""

import csv
import io
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.db import connections
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from conftest import make_organisation
from core.models import AuditLog
from events import services
from events.models import Event, Question, Registration

from .factories import make_event, person


def url(name, event, **kwargs):
    return reverse(f"events:{name}", kwargs={"territory": event.territory.slug, "slug": event.slug, **kwargs})


@pytest.mark.django_db
def test_check_in_says_welcome_then_already_checked_in_and_counts_once(client_as, personas, territory):
    event = make_event(territory, tables=[("Welfare", 10)], table_mode="first_come")
    table = event.tables.get()
    reg = services.register_attendee(event=event, data=person(1, organisation_name="Equa"), table_id=table.pk)
    client = client_as(personas["coordinator"])

    typed = " ".join([reg.ticket_code[:4].lower(), reg.ticket_code[4:]])  # "prsy NJGV", as people type it
    first = client.post(url("check_in", event), {"code": typed}, HTTP_HX_REQUEST="true")
    assert "Ingresso registrato" in first.content.decode() and "Welfare" in first.content.decode()
    assert 'hx-swap-oob="innerHTML">' in first.content.decode() and "Presenti: 1 su 1" in first.content.decode()
    second = client.post(url("check_in", event), {"code": reg.ticket_code})
    assert "Ingresso già registrato" in second.content.decode()
    assert "Presenti: 1 su 1" in client.get(url("attendance", event)).content.decode()
    unknown = client.post(url("check_in", event), {"code": "ZZZZZZZZ"}, HTTP_HX_REQUEST="true")
    assert "Biglietto non valido" in unknown.content.decode()


@pytest.mark.django_db
def test_a_check_in_made_by_mistake_is_taken_back_from_the_desk(client_as, personas, territory):
    event = make_event(territory)
    reg = services.register_attendee(event=event, data=person(1))
    client = client_as(personas["coordinator"])
    client.post(url("check_in", event), {"code": reg.ticket_code})
    assert "Presenti: 1 su 1" in client.get(url("attendance", event)).content.decode()

    answer = client.post(url("manage", event), {"action": "undo_check_in", "registration": reg.pk}, follow=True)
    assert "Ingresso annullato per" in answer.content.decode()
    reg.refresh_from_db()
    assert reg.checked_in_at is None and reg.checked_in_by is None
    assert "Presenti: 0 su 1" in client.get(url("attendance", event)).content.decode()
    assert AuditLog.objects.filter(action="registration.check_in_undone", actor=personas["coordinator"]).count() == 1
    again = client.post(url("manage", event), {"action": "undo_check_in", "registration": reg.pk}, follow=True)
    assert "non risultava" in again.content.decode()
    assert AuditLog.objects.filter(action="registration.check_in_undone").count() == 1
    # Check-in staff who may not manage the event cannot undo from the manage page (their own fresh
    # check-ins they take back on the door page: see test_door_staff_can_take_back_a_check_in_they_just_made).
    assert client_as(personas["org_staff"]).post(
        url("manage", event), {"action": "undo_check_in", "registration": reg.pk}).status_code in (403, 404)
    client = client_as(personas["coordinator"])  # client_as signs the one test client in as someone else
    assert client.post(url("check_in", event), {"code": reg.ticket_code}).status_code == 200  # and in again
    reg.refresh_from_db()
    assert reg.checked_in_at is not None


@pytest.mark.django_db
def test_waitlisted_tickets_are_not_let_in(client_as, personas, territory):
    event = make_event(territory, capacity=1)
    services.register_attendee(event=event, data=person(1))
    waiting = services.register_attendee(event=event, data=person(2))
    response = client_as(personas["coordinator"]).post(url("check_in", event), {"code": waiting.ticket_code})
    assert "Biglietto non valido" in response.content.decode()
    assert "in lista d&#x27;attesa, senza un posto confermato: rivolgiti al coordinamento" in response.content.decode() \
        or "in lista d'attesa, senza un posto confermato: rivolgiti al coordinamento" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.checked_in_at is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_several_staff_scanning_the_same_ticket_at_once_check_in_once(personas, territory):
    event = make_event(territory)
    reg = services.register_attendee(event=event, data=person(1))
    staff = personas["coordinator"]
    barrier = threading.Barrier(8)

    def scan(_):
        try:
            barrier.wait(timeout=30)
            return services.check_in(event=event, ticket_code=reg.ticket_code, actor=staff)[0]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(scan, range(8)))
    assert outcomes.count("checked_in") == 1
    assert outcomes.count("already_checked_in") == 7
    from core.models import AuditLog

    assert AuditLog.objects.filter(action="registration.checked_in").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_undoing_and_redoing_a_check_in_at_once_leaves_one_consistent_state(personas, territory):
    # Two desks: one takes the check-in back while others scan the ticket again. Each change is one
    # conditional UPDATE, so the audit log tells exactly the changes that happened, in a row that
    # ends where the registration ends.
    from core.models import AuditLog

    event = make_event(territory)
    reg = services.register_attendee(event=event, data=person(1))
    staff = personas["coordinator"]
    services.check_in(event=event, ticket_code=reg.ticket_code, actor=staff)
    barrier = threading.Barrier(8)

    def act(n):
        try:
            barrier.wait(timeout=30)
            if n % 2:
                return "undone" if services.undo_check_in(registration=reg, actor=staff) else "not_checked_in"
            return services.check_in(event=event, ticket_code=reg.ticket_code, actor=staff)[0]
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(act, range(8)))

    undone = AuditLog.objects.filter(action="registration.check_in_undone").count()
    checked_in = AuditLog.objects.filter(action="registration.checked_in").count()
    assert undone == outcomes.count("undone") >= 1
    assert checked_in == 1 + outcomes.count("checked_in")
    reg.refresh_from_db()
    # Every undo follows a check-in: the state is "checked in" exactly when check-ins outnumber undos.
    assert checked_in - undone in (0, 1)
    assert (reg.checked_in_at is not None) == (checked_in - undone == 1)


@pytest.mark.django_db
@pytest.mark.parametrize("persona, status", [
    ("coordinator", 200), ("org_admin", 403), ("org_staff", 403), ("worker", 403), ("provider_staff", 403),
    ("helpdesk", 403), ("outsider", 403),
])
def test_who_may_open_the_check_in_page(client_as, personas, territory, persona, status):
    event = make_event(territory)
    assert client_as(personas[persona]).get(url("check_in", event)).status_code == status


@pytest.mark.django_db
def test_staff_of_an_organising_member_may_check_in_but_not_manage(client_as, personas, territory, firm):
    event = make_event(territory)
    event.organisers.add(firm)
    client = client_as(personas["org_staff"])
    assert client.get(url("check_in", event)).status_code == 200
    assert client.get(url("manage", event)).status_code == 403


@pytest.mark.django_db
def test_door_staff_find_their_events_check_in_on_their_dashboard(client_as, personas, territory, firm, coop):
    from accounts.models import Role

    staff = personas["org_staff"]
    second = make_organisation(territory, "Seconda Coop")
    Role.objects.create(user=staff, kind=Role.Kind.ORG_STAFF, territory=territory, organisation=second)
    ours = make_event(territory)
    ours.organisers.add(firm, second)  # organised by both of their organisations: listed once
    running = make_event(territory, starts_at=timezone.now() - timedelta(hours=3))
    running.organisers.add(firm)
    long_gone = make_event(territory, starts_at=timezone.now() - timedelta(days=10))
    long_gone.organisers.add(firm)
    draft = make_event(territory, is_published=False)
    draft.organisers.add(firm)
    not_ours = make_event(territory)
    not_ours.organisers.add(coop)
    page = client_as(staff).get(reverse("accounts:dashboard")).content.decode()
    assert "Accoglienza agli eventi" in page
    assert page.count(url("check_in", ours)) == 1 and url("check_in", running) in page
    for hidden in (long_gone, draft, not_ours):
        assert url("check_in", hidden) not in page
    assert "Accoglienza agli eventi" not in client_as(personas["worker"]).get(reverse("accounts:dashboard")).content.decode()


@pytest.mark.django_db
def test_door_staff_can_take_back_a_check_in_they_just_made(client_as, personas, territory, firm):
    event = make_event(territory)
    event.organisers.add(firm)
    reg = services.register_attendee(event=event, data=person(1))
    other = make_event(territory)
    elsewhere = services.register_attendee(event=other, data=person(2))
    services.check_in(event=other, ticket_code=elsewhere.ticket_code, actor=None)
    client = client_as(personas["org_staff"])

    scanned = client.post(url("check_in", event), {"code": reg.ticket_code}, HTTP_HX_REQUEST="true").content.decode()
    assert "Annulla questo ingresso" in scanned and f'name="undo" value="{reg.ticket_code}"' in scanned
    undone = client.post(url("check_in", event), {"undo": reg.ticket_code}, HTTP_HX_REQUEST="true").content.decode()
    assert "Ingresso annullato" in undone and "Presenti: 0 su 1" in undone
    reg.refresh_from_db()
    assert reg.checked_in_at is None
    assert AuditLog.objects.filter(action="registration.check_in_undone", object_id=str(reg.pk)).count() == 1
    again = client.post(url("check_in", event), {"undo": reg.ticket_code}).content.decode()
    assert "non risultava alcun ingresso" in again
    # A code of another event is not this page's to undo.
    client.post(url("check_in", event), {"undo": elsewhere.ticket_code})
    elsewhere.refresh_from_db()
    assert elsewhere.checked_in_at is not None
    assert client.post(url("check_in", event), {"code": reg.ticket_code}).status_code == 200  # scans again

    # Only their own, and only just made: a colleague's check-in, or one from a while ago, is the
    # coordination's to correct (attendance makes certificates and statistics).
    colleague = services.register_attendee(event=event, data=person(3))
    services.check_in(event=event, ticket_code=colleague.ticket_code, actor=personas["coordinator"])
    refused = client.post(url("check_in", event), {"undo": colleague.ticket_code}).content.decode()
    assert "può annullarlo solo il coordinamento" in refused
    Registration.objects.filter(pk=reg.pk).update(checked_in_at=timezone.now() - timedelta(minutes=16))
    client.post(url("check_in", event), {"undo": reg.ticket_code})
    for person_ in (colleague, reg):
        person_.refresh_from_db()
        assert person_.checked_in_at is not None
    # The coordinator may correct both.
    coordinator = client_as(personas["coordinator"])
    for person_ in (colleague, reg):
        assert "Ingresso annullato" in coordinator.post(url("check_in", event), {"undo": person_.ticket_code}).content.decode()


@pytest.mark.django_db
def test_an_erased_registrations_attendance_stays_as_it_was(client_as, personas, territory):
    event = make_event(territory, starts_at=timezone.now() - timedelta(hours=1))
    reg = services.register_attendee(event=event, data=person(1))
    services.check_in(event=event, ticket_code=reg.ticket_code, actor=personas["coordinator"])
    services.delete_registration_data(registration=reg)
    reg.refresh_from_db()
    assert reg.is_anonymised and reg.checked_in_at is not None
    client = client_as(personas["coordinator"])
    client.post(url("check_in", event), {"undo": reg.ticket_code})
    answer = client.post(url("manage", event), {"action": "undo_check_in", "registration": reg.pk}, follow=True)
    assert "la sua presenza resta com" in answer.content.decode()
    assert services.undo_check_in(registration=reg, actor=None) is False
    reg.refresh_from_db()
    assert reg.checked_in_at is not None


@pytest.mark.django_db
def test_coordinator_of_another_territory_sees_nothing(client_as, territory, other_coordinator):
    event = make_event(territory)
    client = client_as(other_coordinator)
    assert client.get(url("manage", event)).status_code == 403
    assert client.get(url("export", event, fmt="csv")).status_code == 403
    assert client.get(url("check_in", event)).status_code == 403


@pytest.mark.django_db
def test_exports_list_every_registration_with_answers_in_csv_and_xlsx(client_as, personas, territory):
    event = make_event(territory, capacity=1)
    remote = Question.objects.create(event=event, label="Smart working?", kind="yes_no")
    question = Question.objects.create(event=event, label="Dimensione?", kind="single", choices=["1-9", "10-49"])
    services.register_attendee(event=event, data=person(1, organisation_name="=cmd|' /C calc'!A0", newsletter_opt_in=True),
                               answers={str(question.pk): {"question": "Dimensione?", "answer": "1-9"},
                                        str(remote.pk): {"question": "Smart working?", "answer": "yes"}})
    services.register_attendee(event=event, data=person(2))
    client = client_as(personas["coordinator"])

    response = client.get(url("export", event, fmt="csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][-1] == "Dimensione?"
    assert len(rows) == 3
    assert rows[1][-1] == "1-9"
    # Yes/no answers read as the opt-ins beside them do, in the reader's language.
    assert rows[1][-2] == "Sì" and rows[2][-2] == "" and (rows[1][9], rows[1][10]) == ("Sì", "No")
    assert rows[1][5].startswith("'=")  # no formula injection into spreadsheets
    assert {rows[1][1], rows[2][1]} == {"Confermata", "In lista d'attesa"}

    response = client.get(url("export", event, fmt="xlsx"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 3 and sheet.cell(1, 1).value == "Codice"
    registered = [c for c in sheet[1] if c.value == "Iscritto il"][0].column
    assert isinstance(sheet.cell(2, registered).value, datetime)  # a date the spreadsheet can sort, not text
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", rows[1][11])  # the CSV's "Iscritto il"


@pytest.mark.django_db
def test_exports_of_an_event_with_ranked_tables_say_each_persons_table_and_choices(client_as, personas, territory):
    event = make_event(territory, table_mode="ranked", tables=[("Welfare in rete", 1), ("Diversity & Inclusion", 5)])
    welfare, inclusion = event.tables.order_by("position")
    first = services.register_attendee(event=event, data=person(1), preferences=[welfare.pk, inclusion.pk])
    services.register_attendee(event=event, data=person(2), preferences=[inclusion.pk])
    services.assign_tables(event=event, actor=personas["coordinator"])
    first.refresh_from_db()
    client = client_as(personas["coordinator"])

    rows = list(csv.reader(io.StringIO(client.get(url("export", event, fmt="csv")).content.decode("utf-8-sig")),
                           delimiter=";"))
    header = rows[0]
    assert header[8:11] == ["Tavolo", "In attesa del tavolo", "Preferenze sui tavoli"]
    by_email = {row[4]: row for row in rows[1:]}
    assert by_email["persona1@example.org"][8] == first.table.title
    assert by_email["persona1@example.org"][10] == "1. Welfare in rete; 2. Diversity & Inclusion"
    assert by_email["persona2@example.org"][8:11] == ["Diversity & Inclusion", "", "1. Diversity & Inclusion"]
    sheet = load_workbook(io.BytesIO(client.get(url("export", event, fmt="xlsx")).content)).active
    assert [c.value for c in sheet[1]][8:11] == header[8:11]
    # Wide enough to read as opened: the longest header, the dates.
    assert sheet.column_dimensions["K"].width >= len("Preferenze sui tavoli")
    registered = [c for c in sheet[1] if c.value == "Iscritto il"][0].column_letter
    assert sheet.column_dimensions[registered].width >= 16


@pytest.mark.django_db
def test_badges_and_certificates_are_real_pdfs(client_as, personas, territory, client):
    event = make_event(territory)
    reg = services.register_attendee(event=event, data=person(1))
    coordinator = client_as(personas["coordinator"])
    assert coordinator.get(url("badges", event)).content.startswith(b"%PDF")
    assert client.get(reverse("events:certificate", kwargs={"token": reg.token})).status_code == 404  # not present yet
    # Checked in ahead (the check-in page warns): still no certificate for an event yet to come.
    services.check_in(event=event, ticket_code=reg.ticket_code, actor=personas["coordinator"])
    assert client.get(reverse("events:certificate", kwargs={"token": reg.token})).status_code == 404
    assert coordinator.get(url("certificates", event)).status_code == 302
    assert "in anticipo" in coordinator.get(url("check_in", event)).content.decode()
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(minutes=5))
    response = client.get(reverse("events:certificate", kwargs={"token": reg.token}))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert coordinator.get(url("certificates", event)).content.startswith(b"%PDF")


@pytest.mark.django_db
def test_a_certificate_says_who_from_which_organisation_when_where_and_by_whom(territory, firm, personas):
    from django.template.loader import render_to_string

    from events.views import _certificate_context

    start = timezone.now() - timedelta(hours=2)
    event = make_event(territory, starts_at=start, venue_name="Luiss Hub", venue_address="Via D'Azeglio 3, Milano",
                       tables=[("Welfare in rete", 5)], table_mode="first_come")
    event.organisers.add(firm)
    reg = Registration.objects.create(event=event, first_name="Giulia", last_name="Brambilla", email="g@example.org",
                                      organisation_name="Equa Cooperativa Sociale", status="confirmed",
                                      table=event.tables.get(), privacy_acknowledged_at=start, checked_in_at=start)
    html = render_to_string("events/certificate_pdf.html", _certificate_context(event, [reg]))
    for expected in ("Giulia Brambilla", "Equa Cooperativa Sociale", "Luiss Hub, Via D&#x27;Azeglio 3, Milano",
                     f"dalle {timezone.localtime(start):%H:%M}", "Tavolo di lavoro: Welfare in rete",
                     f"Organizzato da: {firm.name}", reg.ticket_code, "Presenza registrata all'ingresso"):
        assert expected in html, expected


@pytest.mark.django_db
def test_before_assigning_the_coordinator_sees_each_tables_demand_and_each_persons_ranking(
    client_as, personas, territory
):
    event = make_event(territory, table_mode="ranked", tables=[("Replicabilità", 2), ("Welfare in rete", 2)])
    a, b = event.tables.order_by("position")
    services.register_attendee(event=event, data=person(1), preferences=[b.pk, a.pk])
    services.register_attendee(event=event, data=person(2), preferences=[b.pk])
    services.register_attendee(event=event, data=person(3), preferences=[a.pk, b.pk])
    gone = services.register_attendee(event=event, data=person(4), preferences=[b.pk])
    services.cancel_registration(registration=gone)  # a cancelled person's wishes no longer count
    page = client_as(personas["coordinator"]).get(url("manage", event)).content.decode()
    assert "Replicabilità: 0 / 2\n    · prima scelta di 1 persona, scelta successiva di 1" in page
    assert "Welfare in rete: 0 / 2\n    · prima scelta di 2 persone, scelta successiva di 1" in page
    assert "Preferenze: 1. Welfare in rete; 2. Replicabilità" in page


def test_manage_page_filters_and_moves_people_between_tables(client_as, personas, territory):
    event = make_event(territory, table_mode="ranked", tables=[("A", 1), ("B", 1)])
    a, b = event.tables.order_by("position")
    reg = services.register_attendee(event=event, data=person(1), preferences=[a.pk])
    client = client_as(personas["coordinator"])
    page = client.get(url("manage", event), {"q": "persona1"}).content.decode()
    assert "persona1@example.org" in page
    assert "persona1@example.org" in client.get(url("manage", event), {"q": "persona1\x00"}).content.decode()
    done = client.post(url("manage", event), {"action": "assign_tables"}, follow=True).content.decode()
    assert ("Persone sedute: 1 (alla prima scelta: 1; a un&#x27;altra delle loro scelte: 0; a un tavolo non scelto: 0)."
            " Senza posto: 0 (in attesa della prima scelta: 0; senza preferenze, da assegnare a mano: 0).") in done
    reg.refresh_from_db()
    assert reg.table == a
    client.post(url("manage", event), {"action": "move", "registration": reg.pk, "table": b.pk})
    reg.refresh_from_db()
    assert reg.table == b
    assert Registration.objects.filter(table=a).count() == 0

    for tampered in ({"registration": "abc", "table": b.pk}, {"registration": reg.pk, "table": "1e3"},
                     {"registration": reg.pk, "table": "\x00"}, {"registration": "²", "table": a.pk}):
        assert client.post(url("manage", event), {"action": "move", **tampered}).status_code == 404, tampered
    reg.refresh_from_db()
    assert reg.table == b




@pytest.mark.django_db
def test_manage_page_says_whether_the_event_is_public_and_when_registration_runs(client_as, personas, territory):
    client = client_as(personas["coordinator"])
    draft = make_event(territory, is_published=False)
    page = client.get(url("manage", draft)).content.decode()
    assert "Bozza" in page and "Non è visibile al pubblico" in page

    opens = timezone.localtime(timezone.now() + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    upcoming = make_event(territory, registration_opens_at=opens)
    page = client.get(url("manage", upcoming)).content.decode()
    assert "Pubblicato" in page and f"Aprono il {opens.day} " in page and "09:00" in page
    # Certificates say someone took part: not offered before the event has begun.
    assert url("certificates", upcoming) not in page
    assert "si scaricano da qui dall'inizio dell'evento" in page

    deadline = timezone.localtime(timezone.now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    running = make_event(territory, starts_at=timezone.now() - timedelta(hours=1), registration_closes_at=deadline)
    present = services.register_attendee(event=running, data=person(1))
    services.check_in(event=running, ticket_code=present.ticket_code, actor=None)
    page = client.get(url("manage", running)).content.decode()
    assert f"Iscrizioni aperte fino al {deadline.day} " in page and f"{deadline:%H:%M}" in page
    assert url("certificates", running) in page


@pytest.mark.django_db
def test_the_manage_page_of_a_finished_event_offers_no_table_actions(client_as, personas, territory,
                                                                     django_capture_on_commit_callbacks):
    event = make_event(territory, table_mode="ranked", tables=[("Welfare", 5)])
    reg = services.register_attendee(event=event, data=person(1), preferences=[event.tables.get().pk])
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(days=2),
                                             ends_at=timezone.now() - timedelta(days=2, hours=-6))
    client = client_as(personas["coordinator"])
    page = client.get(url("manage", event)).content.decode()
    assert 'value="assign_tables"' not in page and 'value="notify_tables"' not in page
    assert url("certificates", event) not in page and "Nessuna persona risulta presente" in page
    with django_capture_on_commit_callbacks(execute=True):
        for action in ("assign_tables", "notify_tables"):
            answer = client.post(url("manage", event), {"action": action}, follow=True).content.decode()
            assert "L&#x27;evento si è concluso" in answer or "L'evento si è concluso" in answer
    reg.refresh_from_db()
    assert reg.table is None
    assert not [m for m in mail.outbox if "tavolo" in m.subject.lower()]
    empty = make_event(territory)
    assert "Ancora nessuna iscrizione." in client.get(url("manage", empty)).content.decode()
    filtered = client.get(url("manage", empty), {"q": "nessuno"}).content.decode()
    assert "Nessuna iscrizione corrisponde." in filtered and "Togli i filtri" in filtered


@pytest.mark.django_db
def test_the_coordinator_confirms_one_person_out_of_turn_raising_a_full_event_by_one_seat(
    client_as, personas, territory, django_capture_on_commit_callbacks
):
    event = make_event(territory, capacity=1)
    services.register_attendee(event=event, data=person(1))
    first = services.register_attendee(event=event, data=person(2))
    interpreter = services.register_attendee(event=event, data=person(3))
    assert (first.status, interpreter.status) == ("waitlisted", "waitlisted")
    client = client_as(personas["coordinator"])
    page = client.get(url("manage", event)).content.decode()
    assert "Conferma fuori turno" in page and "la capienza sale di un posto per ognuno" in page
    assert "L'evento è pieno: la capienza salirà a 2." in page and "js/confirm.js" in page  # asked first
    # An editor page drawn before the raise must not put the old capacity back when saved later.
    from .test_editor import edit_url, form_data
    stale_editor = form_data(client, edit_url(event), title="Titolo corretto")

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(url("manage", event), {"action": "confirm_out_of_turn", "registration": interpreter.pk},
                             follow=True)
    assert "la capienza è salita a 2" in answer.content.decode()
    event.refresh_from_db()
    interpreter.refresh_from_db()
    first.refresh_from_db()
    assert (event.capacity, event.seats_taken) == (2, 2)
    assert (interpreter.status, first.status) == ("confirmed", "waitlisted")  # the others keep their places
    [told] = mail.outbox
    assert told.to == [interpreter.email] and interpreter.ticket_code in told.body
    # No seat was freed: the mail says the coordination gave it, not that one became free.
    assert told.subject.startswith("Iscrizione confermata dal coordinamento: «")
    assert "ti ha dato un posto" in told.body and "si è liberato" not in told.body
    audit = AuditLog.objects.get(action="registration.confirmed_out_of_turn")
    assert audit.changes == {"capacity": [1, 2]} and audit.actor == personas["coordinator"]
    assert AuditLog.objects.get(action="event.updated", object_id=str(event.pk)).changes == {"capacity": [1, 2]}

    services.cancel_registration(registration=interpreter)  # its seat goes to the first in line…
    services.cancel_registration(registration=first)  # …who cancels too: 1 seat taken, the stale page would fit
    refused = client.post(edit_url(event), stale_editor)
    assert refused.status_code == 422 and "Nel frattempo" in refused.content.decode()  # the editor's own conflict
    event.refresh_from_db()
    assert event.capacity == 2 and event.title != "Titolo corretto"


@pytest.mark.django_db
def test_nobody_is_confirmed_out_of_turn_once_the_event_is_over(client_as, personas, territory):
    event = make_event(territory, capacity=1)
    services.register_attendee(event=event, data=person(1))
    waiting = services.register_attendee(event=event, data=person(2))
    Event.objects.filter(pk=event.pk).update(starts_at=timezone.now() - timedelta(hours=3),
                                             ends_at=timezone.now() - timedelta(hours=1))
    client = client_as(personas["coordinator"])
    assert "Conferma fuori turno" not in client.get(url("manage", event)).content.decode()
    answer = client.post(url("manage", event), {"action": "confirm_out_of_turn", "registration": waiting.pk}, follow=True)
    assert "L&#x27;evento si è concluso: nessuno viene più confermato." in answer.content.decode()
    waiting.refresh_from_db()
    event.refresh_from_db()
    assert (waiting.status, event.capacity, event.seats_taken) == ("waitlisted", 1, 1)


@pytest.mark.django_db
def test_only_a_waiting_person_is_confirmed_out_of_turn_and_only_by_coordinators(client_as, personas, territory):
    event = make_event(territory, capacity=1)
    seated = services.register_attendee(event=event, data=person(1))
    waiting = services.register_attendee(event=event, data=person(2))
    client = client_as(personas["coordinator"])
    answer = client.post(url("manage", event), {"action": "confirm_out_of_turn", "registration": seated.pk}, follow=True)
    assert "ha già un posto: nulla è cambiato" in answer.content.decode()
    for persona in ("org_admin", "worker", "outsider"):
        assert client_as(personas[persona]).post(
            url("manage", event), {"action": "confirm_out_of_turn", "registration": waiting.pk}).status_code in (403, 404)
    event.refresh_from_db()
    waiting.refresh_from_db()
    assert (event.capacity, event.seats_taken, waiting.status) == (1, 1, "waitlisted")
    assert not AuditLog.objects.filter(action="registration.confirmed_out_of_turn").exists()


@pytest.mark.django_db
def test_a_person_who_deleted_their_data_is_named_as_such_at_the_desk_and_the_door(client_as, personas, territory):
    event = make_event(territory)
    gone = services.register_attendee(event=event, data=person(1))
    services.delete_registration_data(registration=gone)
    gone.refresh_from_db()
    client = client_as(personas["coordinator"])

    desk = client.get(url("manage", event)).content.decode()
    door = client.post(url("check_in", event), {"code": gone.ticket_code}).content.decode()

    for page in (desk, door):
        assert "(dati cancellati su richiesta)" in page
        assert "anonimo-" not in page and "persona1@example.org" not in page


def test_people_left_without_a_table_are_told_apart_and_the_coordinator_hears_who_got_no_mail(
        client_as, personas, territory):
    event = make_event(territory, table_mode="ranked", tables=[("A", 1)])
    a = event.tables.get()
    for n in range(2):
        services.register_attendee(event=event, data=person(n), preferences=[a.pk])  # one of them waits for A
    for n in range(2, 5):
        services.register_attendee(event=event, data=person(n))  # no preferences
    client = client_as(personas["coordinator"])

    done = client.post(url("manage", event), {"action": "assign_tables"}, follow=True).content.decode()
    assert "Senza posto: 4 (in attesa della prima scelta: 1; senza preferenze, da assegnare a mano: 3)." in done

    sent = client.post(url("manage", event), {"action": "notify_tables"}, follow=True).content.decode()
    assert "Abbiamo scritto a 1 persona il suo tavolo." in sent
    assert "4 persone confermate non hanno ancora un tavolo e non hanno ricevuto nulla" in sent
