"""Ideas boards of the working tables: who posts and votes, one vote each, summaries and outcomes."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import IntegrityError, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.models import AuditLog
from events import services
from events.models import Event, Idea, IdeaVote

from .factories import make_event, person


def board_url(registration, table):
    return reverse("events:board", kwargs={"token": registration.token, "table_id": table.pk})


def vote_url(registration, idea):
    return reverse("events:vote", kwargs={"token": registration.token, "idea_id": idea.pk})


def public_board_url(table):
    event = table.event
    return reverse("events:table_board", kwargs={"territory": event.territory.slug, "slug": event.slug, "table_id": table.pk})


def summary_url(table):
    event = table.event
    return reverse("events:table_summary", kwargs={"territory": event.territory.slug, "slug": event.slug, "table_id": table.pk})


def move_event(event, *, starts_in: timedelta):
    """Move an event in time after people registered (registration needs it to be open)."""
    starts = timezone.now() + starts_in
    Event.objects.filter(pk=event.pk).update(starts_at=starts, ends_at=starts + timedelta(hours=6))
    event.refresh_from_db()


@pytest.fixture
def event(territory):
    return make_event(territory, capacity=2, tables=[("Welfare in rete", 10), ("Diversity & Inclusion", 10)])


@pytest.fixture
def table(event):
    return event.tables.order_by("position").first()


@pytest.fixture
def confirmed(event):
    return services.register_attendee(event=event, data=person(1))


@pytest.mark.django_db
def test_the_registration_page_links_each_table_board_for_confirmed_people_only(client, event, table, confirmed):
    services.register_attendee(event=event, data=person(2))
    waiting = services.register_attendee(event=event, data=person(3))
    assert waiting.status == "waitlisted"
    page = client.get(confirmed.get_absolute_url()).content.decode()
    assert "Bacheca delle idee: Welfare in rete" in page and board_url(confirmed, table) in page
    assert "Bacheca delle idee" not in client.get(waiting.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_a_confirmed_participant_posts_an_idea(client, table, confirmed):
    response = client.post(board_url(confirmed, table), {"text": "  Un nido aziendale condiviso tra piccole imprese  "})
    idea = Idea.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"#idea-{idea.pk}")
    assert (idea.text, idea.table, idea.registration) == ("Un nido aziendale condiviso tra piccole imprese", table, confirmed)
    page = client.get(board_url(confirmed, table)).content.decode()
    assert "Un nido aziendale condiviso" in page and "La tua idea" in page


@pytest.mark.django_db
@pytest.mark.parametrize("text, message", [
    ("", "Scrivi la tua idea prima di pubblicarla."),
    ("   ", "Scrivi la tua idea prima di pubblicarla."),
    ("x" * 501, "501"),
])
def test_an_empty_or_too_long_idea_is_refused(client, table, confirmed, text, message):
    response = client.post(board_url(confirmed, table), {"text": text})
    assert response.status_code == 422
    assert message in response.content.decode().split('id="id_text-error">', 1)[1].split("</div>", 1)[0]
    assert not Idea.objects.exists()


@pytest.mark.django_db
def test_people_without_a_confirmed_seat_can_read_but_not_post_or_vote(client, event, table, confirmed):
    idea = services.post_idea(table=table, registration=confirmed, text="Orari flessibili")
    services.register_attendee(event=event, data=person(2))
    waiting = services.register_attendee(event=event, data=person(3))
    cancelled = services.cancel_registration(registration=services.register_attendee(event=event, data=person(4)))

    for registration in (waiting, cancelled):
        page = client.get(board_url(registration, table))
        assert page.status_code == 200 and "Orari flessibili" in page.content.decode()
        assert 'name="text"' not in page.content.decode() and vote_url(registration, idea) not in page.content.decode()
        assert client.post(board_url(registration, table), {"text": "Anch'io"}).status_code == 403
        assert client.post(vote_url(registration, idea), {"vote": "1"}).status_code == 403
    assert Idea.objects.count() == 1 and not IdeaVote.objects.exists()


@pytest.mark.django_db
def test_a_registration_of_another_event_cannot_reach_this_board(client, territory, table, confirmed):
    other = services.register_attendee(event=make_event(territory), data=person(9))
    idea = services.post_idea(table=table, registration=confirmed, text="Welfare di quartiere")
    assert client.get(board_url(other, table)).status_code == 404
    assert client.post(vote_url(other, idea), {"vote": "1"}).status_code == 404
    assert not IdeaVote.objects.exists()


@pytest.mark.django_db
def test_voting_is_idempotent_and_can_be_taken_back(client, event, table, confirmed):
    author = services.register_attendee(event=event, data=person(2))
    idea = services.post_idea(table=table, registration=author, text="Sportello unico")
    for _ in range(2):  # a double click, or the same page open in two tabs
        assert client.post(vote_url(confirmed, idea), {"vote": "1"}).status_code == 302
    assert IdeaVote.objects.filter(idea=idea).count() == 1
    assert "1 voto" in client.get(board_url(confirmed, table)).content.decode()
    for _ in range(2):
        client.post(vote_url(confirmed, idea), {"vote": "0"})
    assert not IdeaVote.objects.exists()


@pytest.mark.django_db
def test_htmx_voting_answers_with_the_idea_only(client, event, table, confirmed):
    author = services.register_attendee(event=event, data=person(2))
    idea = services.post_idea(table=table, registration=author, text="Coworking vicino a casa")

    response = client.post(vote_url(confirmed, idea), {"vote": "1"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response.status_code == 200 and "HX-Request" in response["Vary"]
    assert html.strip().startswith(f'<li class="list-group-item" id="idea-{idea.pk}">')
    assert "1 voto" in html and 'name="vote" value="0"' in html and "<html" not in html


@pytest.mark.django_db
def test_nobody_votes_for_their_own_idea(client, table, confirmed):
    idea = services.post_idea(table=table, registration=confirmed, text="La mia proposta")
    board = client.get(board_url(confirmed, table)).content.decode()
    assert "La tua idea" in board and f'action="{vote_url(confirmed, idea)}"' not in board
    refused = client.post(vote_url(confirmed, idea), {"vote": "1"})
    assert refused.status_code == 409 and "Non si vota la propria idea" in refused.content.decode()
    assert not IdeaVote.objects.exists()
    with pytest.raises(services.OwnIdea):
        services.vote_for_idea(idea=idea, registration=confirmed, vote=True)


@pytest.mark.django_db
def test_votes_for_a_hidden_idea_are_refused(client, table, confirmed, personas):
    idea = services.post_idea(table=table, registration=confirmed, text="Testo offensivo")
    services.set_idea_hidden(idea=idea, hidden=True, actor=personas["coordinator"])
    assert client.post(vote_url(confirmed, idea), {"vote": "1"}).status_code == 409
    assert not IdeaVote.objects.exists()


@pytest.mark.django_db
def test_the_board_closes_when_the_event_ends(client, event, table, confirmed):
    idea = services.post_idea(table=table, registration=confirmed, text="Banca del tempo")
    move_event(event, starts_in=-timedelta(days=1))
    response = client.post(board_url(confirmed, table), {"text": "Troppo tardi"})
    assert response.status_code == 409 and "La bacheca è chiusa" in response.content.decode()
    assert client.post(vote_url(confirmed, idea), {"vote": "1"}).status_code == 409
    assert Idea.objects.count() == 1 and not IdeaVote.objects.exists()


@pytest.mark.django_db
def test_the_database_refuses_a_second_vote_by_the_same_person(table, confirmed):
    idea = services.post_idea(table=table, registration=confirmed, text="Mensa condivisa")
    IdeaVote.objects.create(idea=idea, registration=confirmed)
    with pytest.raises(IntegrityError), transaction.atomic():
        IdeaVote.objects.create(idea=idea, registration=confirmed)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_vote_sent_many_times_at_once_counts_once(territory):
    event = make_event(territory, tables=[("Welfare", 10)])
    table = event.tables.get()
    voter = services.register_attendee(event=event, data=person(1))
    author = services.register_attendee(event=event, data=person(2))
    idea = services.post_idea(table=table, registration=author, text="Asilo nido di rete")
    workers = 8
    barrier = threading.Barrier(workers)

    def click(_):
        try:
            client = Client()  # one browser tab each
            barrier.wait(timeout=30)
            return client.post(vote_url(voter, idea), {"vote": "1"}, HTTP_HX_REQUEST="true").status_code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        statuses = list(pool.map(click, range(workers)))

    assert statuses == [200] * workers
    assert IdeaVote.objects.filter(idea=idea, registration=voter).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("persona, status", [
    ("facilitator", 200), ("coordinator", 200), ("org_staff", 403), ("outsider", 403), ("other_coordinator", 403),
])
def test_who_may_write_a_tables_summary(client_as, personas, other_coordinator, table, persona, status):
    table.facilitator = personas["org_admin"]
    table.save()
    user = {"facilitator": personas["org_admin"], "other_coordinator": other_coordinator}.get(persona) or personas[persona]
    client = client_as(user)
    assert client.get(summary_url(table)).status_code == status
    response = client.post(summary_url(table), {"summary": f"Scritta da {persona}"})
    table.refresh_from_db()
    if status == 200:
        assert response.status_code == 302 and table.summary == f"Scritta da {persona}"
        log = AuditLog.objects.get(action="table.summary_written")
        assert log.actor == user and log.changes["summary"] == ["", f"Scritta da {persona}"]
    else:
        assert response.status_code == 403 and table.summary == ""


@pytest.mark.django_db
def test_a_visitor_is_sent_to_sign_in_before_writing_a_summary(client, table):
    response = client.post(summary_url(table), {"summary": "Anonima"})
    assert response.status_code == 302 and "/account/login/" in response["Location"]
    table.refresh_from_db()
    assert table.summary == ""


@pytest.mark.django_db
def test_a_too_long_summary_is_refused(client_as, personas, table):
    response = client_as(personas["coordinator"]).post(summary_url(table), {"summary": "x" * 5001})
    assert response.status_code == 422
    table.refresh_from_db()
    assert table.summary == "" and not AuditLog.objects.exists()


@pytest.mark.django_db
def test_the_event_page_shows_each_tables_summary_and_most_voted_ideas(client, client_as, personas, event, table, confirmed):
    voters = [confirmed] + [services.register_attendee(event=event, data=person(n)) for n in (2, 3)]
    author = services.register_attendee(event=event, data=person(4))
    for n in (2, 3, 4):
        event.registrations.filter(email=f"persona{n}@example.org").update(status="confirmed")
    voters = [event.registrations.get(pk=v.pk) for v in voters]
    author = event.registrations.get(pk=author.pk)
    ideas = {text: services.post_idea(table=table, registration=author, text=text)
             for text in ("Poco votata", "La più votata", "Seconda", "Terza", "Da nascondere")}
    for idea, votes in (("La più votata", 3), ("Seconda", 2), ("Terza", 1), ("Da nascondere", 3)):
        for voter in voters[:votes]:
            services.vote_for_idea(idea=ideas[idea], registration=voter, vote=True)
    services.set_idea_hidden(idea=ideas["Da nascondere"], hidden=True, actor=personas["coordinator"])
    services.write_table_summary(table=table, summary="Serve un nido di rete.", actor=personas["coordinator"])

    before = client.get(event.get_absolute_url()).content.decode()
    assert "Serve un nido di rete." not in before and public_board_url(table) not in before
    assert client.get(public_board_url(table)).status_code == 404  # not yet public
    move_event(event, starts_in=-timedelta(days=1))

    page = client_as(None).get(event.get_absolute_url()).content.decode()
    outcomes = page.split("Esiti del tavolo", 1)[1].split("</section>", 1)[0]
    assert "Serve un nido di rete." in outcomes
    assert outcomes.index("La più votata") < outcomes.index("Seconda") < outcomes.index("Terza")
    assert "(3 voti)" in outcomes and "Poco votata" not in outcomes and "Da nascondere" not in outcomes
    board = client.get(public_board_url(table)).content.decode()
    assert "Poco votata" in board and "Da nascondere" not in board and 'name="hidden"' not in board


@pytest.mark.django_db
def test_the_coordinator_hides_an_idea_with_an_audit_row_and_others_cannot(client_as, personas, event, table, confirmed):
    idea = services.post_idea(table=table, registration=confirmed, text="Spam")
    move_event(event, starts_in=-timedelta(hours=1))
    for persona in ("org_staff", "outsider"):
        assert client_as(personas[persona]).post(public_board_url(table), {"idea": idea.pk, "hidden": "1"}).status_code == 403
    assert client_as(None).post(public_board_url(table), {"idea": idea.pk, "hidden": "1"}).status_code == 403
    idea.refresh_from_db()
    assert not idea.is_hidden

    coordinator = client_as(personas["coordinator"])
    for tampered in ("abc", "1.5", "NaN", str(2**70)):
        assert coordinator.post(public_board_url(table), {"idea": tampered, "hidden": "1"}).status_code == 404
    assert coordinator.post(public_board_url(table), {"idea": idea.pk, "hidden": "1"}).status_code == 302
    idea.refresh_from_db()
    assert idea.is_hidden and idea.hidden_by == personas["coordinator"]
    log = AuditLog.objects.get(action="idea.hidden")
    assert log.actor == personas["coordinator"] and log.changes["text"] == "Spam"
    assert "Spam" in coordinator.get(public_board_url(table)).content.decode()  # still visible to moderators
    assert "Spam" not in client_as(None).get(public_board_url(table)).content.decode()
    assert "Spam" not in client_as(None).get(board_url(confirmed, table)).content.decode()


@pytest.mark.django_db
def test_the_board_is_in_the_participants_language(client, table, confirmed):
    client.cookies["django_language"] = "en"
    response = client.post(board_url(confirmed, table), {"text": ""})
    assert response.status_code == 422
    assert "Write your idea before posting it." in response.content.decode()


@pytest.mark.django_db
def test_ideas_nobody_voted_for_are_not_called_most_voted(client, event, table, confirmed):
    services.post_idea(table=table, registration=confirmed, text="Nessuno l'ha votata")
    move_event(event, starts_in=-timedelta(days=1))

    page = client.get(event.get_absolute_url()).content.decode()

    assert "Le idee più votate" not in page and "Nessuno l&#x27;ha votata" not in page
    assert "Bacheca delle idee (1 idea)" in page  # still on the board


@pytest.mark.django_db
def test_a_past_event_whose_tables_left_nothing_says_so_instead_of_linking_empty_boards(client, event, table):
    move_event(event, starts_in=-timedelta(days=30))  # over, nobody posted, no summary
    page = client.get(event.get_absolute_url()).content.decode()
    assert page.count("Gli esiti di questo tavolo non sono stati pubblicati.") == 2
    assert "Bacheca delle idee (0 idee)" not in page
