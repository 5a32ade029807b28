"""Fixtures for the browser tests: headless Debian Chromium driven by Playwright's sync API.

One browser per test session (launching it takes about a second); a fresh context and page for
every test, so cookies (language, session) never leak from one test to the next. Every request
that is not for the live server is aborted: the tests are hermetic and never wait on the network
(the members map would otherwise ask OpenStreetMap for its tiles).
"""

import os

import pytest
from django.core.management import call_command

from .helpers import VIEWPORT, axe_violations, block_outside, chromium_path, format_violations, launch_chromium


@pytest.fixture(scope="session")
def browser():
    if not chromium_path():
        pytest.skip("Chromium is not installed (apt-get install chromium), or set CHROMIUM to its path.")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an asyncio event loop in the main thread (inside a greenlet) for
    # as long as it is started. Django sees that running loop and refuses ORM calls made from the
    # same thread (fixtures creating data, assertions reading it, the flush after each test) with
    # SynchronousOnlyOperation, although nothing runs concurrently: each sync Playwright call
    # blocks until it is done. So we lift that guard, while Playwright runs and only then.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, live_server):
    """new_page(**context_options): a page in a fresh browser context, offline but for the live server.

    Aborted requests are listed in page.blocked_requests.
    """
    contexts = []

    def make(**options):
        options.setdefault("viewport", VIEWPORT)
        options.setdefault("locale", "it-IT")
        context = browser.new_context(base_url=live_server.url, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        page.blocked_requests = []
        block_outside(page, live_server.url, page.blocked_requests)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def demo(settings, django_db_serialized_rollback, transactional_db):
    """The Milan demo network of `manage.py load_demo`.

    A live server needs a transactional database, whose flush after the test would also empty
    what the migrations created (content types, static pages) for the tests that follow:
    the serialized rollback puts it back.
    """
    from core.models import Territory

    # load_demo creates six accounts: hash their passwords the fast way.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with open(os.devnull, "w") as devnull:
        call_command("load_demo", stdout=devnull)
    return Territory.objects.get(slug="milano")


@pytest.fixture
def assert_accessible():
    """assert_accessible(page, label): fail with axe's violations, readably, if there are any."""

    def check(page, label: str = "") -> None:
        violations = axe_violations(page)
        if violations:
            pytest.fail(
                f"axe found {len(violations)} WCAG 2.1 A/AA violation(s) on {label or page.url}:\n"
                + format_violations(violations),
                pytrace=False,
            )

    return check


@pytest.fixture
def demo_events(demo):
    """The demo's two events with what people leave there.

    `upcoming` (smart-working-nelle-piccole-imprese): `registration`, confirmed and seated at
    `upcoming_table`, whose board has one idea. `final` (vantaggi-welfare-in-rete-2023, long past):
    `final_table` has the facilitator's summary and ideas with votes, one of them hidden by the
    coordinators. The final event is over, so its people and ideas are stored directly.
    """
    from types import SimpleNamespace

    from events import services
    from events.models import Event, Idea, IdeaVote, Registration

    final = Event.objects.get(territory=demo, slug="vantaggi-welfare-in-rete-2023")
    upcoming = Event.objects.get(territory=demo, slug="smart-working-nelle-piccole-imprese")
    upcoming_table = upcoming.tables.order_by("position").first()
    question = upcoming.questions.get(kind="yes_no")
    registration = services.register_attendee(
        event=upcoming,
        data={
            "first_name": "Giulia",
            "last_name": "Verdi",
            "email": "giulia.verdi@example.org",
            "organisation_name": "Officine Lambrate Srl",
        },
        answers={str(question.pk): {"question": question.label, "answer": "yes"}},
        table_id=upcoming_table.pk,
    )
    services.post_idea(
        table=upcoming_table,
        registration=registration,
        text="Un modello di accordo individuale da adattare, scritto dalla rete",
    )

    final_table = final.tables.order_by("position").first()
    people = [
        Registration.objects.create(
            event=final,
            status=Registration.Status.CONFIRMED,
            first_name=name,
            last_name="Demo",
            email=f"{name.lower()}@example.org",
            privacy_acknowledged_at=final.starts_at,
            table=final_table,
            checked_in_at=final.starts_at,
        )
        for name in ("Anna", "Marco", "Sara")
    ]
    texts = [
        "Uno sportello di conciliazione itinerante nei Municipi",
        "Un catalogo comune dei servizi di welfare per le piccole imprese",
        "Una formazione per i referenti aziendali del welfare",
    ]
    ideas = [Idea.objects.create(table=final_table, registration=p, text=t) for p, t in zip(people, texts, strict=True)]
    for voter in people:
        IdeaVote.objects.create(idea=ideas[0], registration=voter)
    IdeaVote.objects.create(idea=ideas[1], registration=people[0])
    Idea.objects.create(table=final_table, registration=people[2], text="Pubblicità fuori tema", is_hidden=True)
    final_table.summary = "Il tavolo propone di portare lo sportello itinerante in altri due territori.\nPrimo passo: una mappa dei servizi."
    final_table.save(update_fields=["summary"])
    return SimpleNamespace(
        final=final,
        upcoming=upcoming,
        registration=registration,
        upcoming_table=upcoming_table,
        final_table=final_table,
    )
