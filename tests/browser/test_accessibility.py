"""axe-core finds no WCAG 2.1 A/AA violation on the public pages, in Italian and in English.

English is reached the way a visitor reaches it: with the language form in the header.
"""

import pytest

from .helpers import switch_language

pytestmark = pytest.mark.browser

ARTICLE = "/milano/notizie/evento-finale-mire-28-novembre-2023/"


def submit_join_form_with_errors(page):
    page.fill("#id_name", "Bottega Prova")
    page.fill("#id_email", "non-una-email")
    with page.expect_navigation():
        page.locator("main form[method='post'] button[type='submit']").click()
    assert page.locator("#form-errors").is_visible()
    assert page.locator(".invalid-feedback").count() >= 3


def submit_wrong_password(page):
    page.fill("input[name='login']", "qualcuno@example.org")
    page.fill("input[name='password']", "password-sbagliata")
    with page.expect_navigation():
        page.locator("main form button[type='submit']").click()
    assert page.locator("input[name='password']").count() == 1, "still on the sign-in form"


def wait_for_map(page):
    page.wait_for_selector("#members-map .leaflet-marker-icon")
    assert page.locator("#members-map .leaflet-marker-icon").count() >= 1


def expect_no_results(page):
    assert page.locator("#directory-results .callout").is_visible()


# (name, path, what to do on the page before axe runs)
PAGES = [
    ("territory-home", "/milano/", None),
    ("directory-with-map", "/milano/organizzazioni/", wait_for_map),
    ("directory-no-results", "/milano/organizzazioni/?q=nessunacorrispondenza", expect_no_results),
    ("directory-filtered", "/milano/organizzazioni/?kind=social_coop&role=ati_member", None),
    ("organisation-with-map", "/milano/organizzazioni/comune-di-milano/", wait_for_map),
    ("organisation", "/milano/organizzazioni/abcitta/", None),
    ("articles", "/milano/notizie/", None),
    ("article", ARTICLE, None),
    ("join", "/milano/aderisci/", None),
    ("join-with-errors", "/milano/aderisci/", submit_join_form_with_errors),
    ("welfare-catalogue-with-map", "/milano/welfare/", wait_for_map),
    ("welfare-catalogue-near-a-point", "/milano/welfare/?lat=45.48&lon=9.22&categoria=f_bis", None),
    ("welfare-service-with-map", "/milano/welfare/servizi/doposcuola-equa/", wait_for_map),
    ("privacy-page", "/pagine/privacy/", None),
    ("sign-in", "/account/login/", None),
    ("sign-in-with-errors", "/account/login/", submit_wrong_password),
]


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize(("name", "path", "action"), PAGES, ids=[p[0] for p in PAGES])
def test_page_has_no_axe_violations(demo, page, assert_accessible, name, path, action, language):
    response = page.goto(path)
    assert response.ok, f"{path} answered {response.status}"
    if language != "it":
        switch_language(page, language)
    assert page.locator("html").get_attribute("lang") == language
    if action:
        action(page)
    assert_accessible(page, f"{name} ({language}, {page.url})")


def test_language_switch_sets_lang_and_shows_english(demo, page):
    nav = page.get_by_role("navigation", name="Menu principale")
    page.goto(ARTICLE)
    assert page.locator("html").get_attribute("lang") == "it"
    assert page.locator("h1").inner_text().startswith("Il welfare in rete fa il punto")
    assert nav.get_by_role("link", name="Organizzazioni").is_visible()
    assert page.locator(".mire-lang a[lang='it']").get_attribute("aria-current") == "true"

    switch_language(page, "en")
    assert page.url.endswith(ARTICLE), "the language link brings the visitor back to the same page"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text().startswith("Networked welfare takes stock")
    # The interface comes from the English catalogue (locale/en), the article from its English fields.
    nav = page.get_by_role("navigation", name="Main menu")
    assert nav.get_by_role("link", name="Organisations").is_visible()
    assert page.get_by_role("link", name="Save page as PDF").is_visible()
    assert page.locator(".mire-lang a[lang='en']").get_attribute("aria-current") == "true"
    assert page.locator(".mire-lang a[lang='it']").get_attribute("aria-current") is None

    # The choice sticks for the rest of the visit.
    page.goto("/pagine/privacy/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Privacy notice"

    switch_language(page, "it")
    assert page.locator("html").get_attribute("lang") == "it"
    assert page.locator("h1").inner_text() == "Informativa sul trattamento dei dati personali"


# --- Events -----------------------------------------------------------------------------------------

FINAL_EVENT = "/milano/eventi/vantaggi-welfare-in-rete-2023/"
UPCOMING_EVENT = "/milano/eventi/smart-working-nelle-piccole-imprese/"


def expect_programme_and_tables(page):
    assert page.locator(".mire-programme li").count() >= 2
    assert page.locator("section[aria-labelledby^='table-']").count() >= 2


def expect_outcomes(page):
    expect_programme_and_tables(page)
    assert page.locator(".callout.note").count() >= 1, "the final event shows its tables' outcomes"


def submit_registration_with_errors(page):
    page.fill("#id_first_name", "Giulia")
    page.fill("#id_email", "non-una-email")
    with page.expect_navigation():
        page.locator("main form[method='post'] button[type='submit']").click()
    assert page.locator("main .alert-danger[role='alert']").is_visible()
    # Last name, email, the required question and the privacy acknowledgement.
    assert page.locator(".invalid-feedback").count() >= 4


def expect_ticket_qr(page):
    assert page.locator("main [role='img'] svg").count() == 1, "the ticket's QR code"


def expect_ideas(page):
    assert page.locator("main ol.list-group > li").count() >= 1


def post_an_empty_idea(page):
    with page.expect_navigation():
        page.locator("main form[novalidate] button[type='submit']").click()
    assert page.locator(".invalid-feedback").is_visible()


# (name, path from the demo_events fixture, what to do on the page before axe runs)
EVENT_PAGES = [
    ("events-upcoming", lambda d: "/milano/eventi/", None),
    ("events-past", lambda d: "/milano/eventi/?quando=passati", None),
    ("event-final-with-outcomes", lambda d: FINAL_EVENT, expect_outcomes),
    ("event-upcoming", lambda d: UPCOMING_EVENT, expect_programme_and_tables),
    ("register", lambda d: UPCOMING_EVENT + "iscriviti/", None),
    ("register-with-errors", lambda d: UPCOMING_EVENT + "iscriviti/", submit_registration_with_errors),
    ("registration-confirmed", lambda d: f"/iscrizioni/{d.registration.token}/", expect_ticket_qr),
    ("cancel-confirmation", lambda d: f"/iscrizioni/{d.registration.token}/annulla/", None),
    ("table-board", lambda d: f"{FINAL_EVENT}tavoli/{d.final_table.pk}/", expect_ideas),
    (
        "table-board-participant",
        lambda d: f"/iscrizioni/{d.registration.token}/tavoli/{d.upcoming_table.pk}/",
        expect_ideas,
    ),
    (
        "table-board-participant-with-errors",
        lambda d: f"/iscrizioni/{d.registration.token}/tavoli/{d.upcoming_table.pk}/",
        post_an_empty_idea,
    ),
]


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize(("name", "path", "action"), EVENT_PAGES, ids=[p[0] for p in EVENT_PAGES])
def test_event_page_has_no_axe_violations(demo_events, page, assert_accessible, name, path, action, language):
    url = path(demo_events)
    response = page.goto(url)
    assert response.ok, f"{url} answered {response.status}"
    if language != "it":
        switch_language(page, language)
    assert page.locator("html").get_attribute("lang") == language
    if action:
        action(page)
    assert_accessible(page, f"{name} ({language}, {page.url})")
