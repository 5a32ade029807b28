"""What a visitor notices in a real browser: filters, form errors, PDF downloads."""

import re
from pathlib import Path

import pytest

from network.models import JoinRequest, Organisation

pytestmark = pytest.mark.browser

DIRECTORY = "/milano/organizzazioni/"
RESULTS = "#directory-results"


def result_names(page) -> list[str]:
    return page.locator(f"{RESULTS} .card-title a").all_inner_texts()


def count_line(n: int) -> str:
    return f"{n} organizzazione trovata" if n == 1 else f"{n} organizzazioni trovate"


def test_directory_filter_works_without_javascript(demo, new_page):
    page = new_page(java_script_enabled=False)
    page.goto(DIRECTORY)
    total = Organisation.objects.filter(territory=demo, is_active=True).count()
    assert count_line(total) in page.locator(RESULTS).inner_text()

    page.select_option("#id_kind", "social_coop")
    with page.expect_navigation():
        page.get_by_role("button", name="Cerca").click()
    assert "kind=social_coop" in page.url
    coops = sorted(Organisation.objects.filter(territory=demo, kind="social_coop").values_list("name", flat=True))
    assert sorted(result_names(page)) == coops
    assert count_line(len(coops)) in page.locator(RESULTS).inner_text()
    assert page.locator("#id_kind").input_value() == "social_coop", "the form shows the filter in use"

    page.fill("#id_q", "nessunacorrispondenza")
    with page.expect_navigation():
        page.locator("#id_q").press("Enter")
    assert result_names(page) == []
    assert page.locator(RESULTS).get_by_text("Nessun risultato").is_visible()

    with page.expect_navigation():
        page.get_by_role("link", name="Azzera i filtri").click()
    assert count_line(total) in page.locator(RESULTS).inner_text()
    assert page.locator("#id_q").input_value() == ""


def test_directory_filter_updates_results_with_htmx(demo, page, assert_accessible):
    page.goto(DIRECTORY)
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("() => { window.__sameDocument = true; }")
    partial_requests = []
    page.on("request", lambda r: r.headers.get("hx-request") == "true" and partial_requests.append(r.url))

    page.fill("#id_q", "officine")
    page.locator("#id_q").press("Enter")
    page.wait_for_function(
        "(text) => document.querySelector('#directory-results').innerText.includes(text)", arg=count_line(1)
    )
    assert result_names(page) == ["Officine Lambrate Srl"]
    assert page.evaluate("() => window.__sameDocument") is True, "the page was not reloaded"
    assert partial_requests, "the results came from an htmx request"
    assert re.search(r"[?&]q=officine", page.url), "the address bar keeps the search (hx-push-url)"
    # Only the results were swapped: one page heading, one filter form, the map section untouched.
    assert page.locator("h1").count() == 1
    assert page.locator("form[role='search']").count() == 1
    assert page.locator("#members-map").count() == 1

    # A select filters on change, without pressing the button.
    page.fill("#id_q", "")
    page.select_option("#id_kind", "social_coop")
    coops = sorted(Organisation.objects.filter(territory=demo, kind="social_coop").values_list("name", flat=True))
    page.wait_for_function(
        "(text) => document.querySelector('#directory-results').innerText.includes(text)",
        arg=count_line(len(coops)),
    )
    assert sorted(result_names(page)) == coops
    assert re.search(r"[?&]kind=social_coop", page.url)
    assert page.evaluate("() => window.__sameDocument") is True
    assert_accessible(page, "directory after an htmx update")

    # Back to the search: the box shows it again, as the results and the address do, so the next
    # filter keeps it (htmx's copy of the page was taken while the box was still empty).
    page.go_back()
    page.wait_for_function("() => /[?&]q=officine/.test(location.search)")
    assert page.locator("#id_q").input_value() == "officine"
    assert page.locator("#id_kind").input_value() == ""
    assert result_names(page) == ["Officine Lambrate Srl"]
    page.go_forward()
    page.wait_for_function("() => /[?&]kind=social_coop/.test(location.search)")
    assert page.locator("#id_q").input_value() == "" and page.locator("#id_kind").input_value() == "social_coop"

    # Switching language keeps the filters the address bar shows.
    page.locator("#mire-lang a[lang='en']").click()
    page.wait_for_load_state()
    assert re.search(r"[?&]kind=social_coop", page.url)
    assert page.locator("html").get_attribute("lang") == "en"
    assert sorted(result_names(page)) == coops


def _below(page, field_selector: str, error_selector: str) -> None:
    """The error is shown right under its field, tied to it for screen readers."""
    field, error = page.locator(field_selector), page.locator(error_selector)
    assert error.is_visible()
    assert field.get_attribute("aria-invalid") == "true"
    assert error_selector.lstrip("#") in (field.get_attribute("aria-describedby") or "").split()
    f, e = field.bounding_box(), error.bounding_box()
    gap = e["y"] - (f["y"] + f["height"])
    assert 0 <= gap < 60, f"{error_selector} is {gap}px below {field_selector}"
    assert e["x"] < f["x"] + f["width"] and f["x"] < e["x"] + e["width"], "error and field share a column"


def test_join_form_shows_errors_next_to_fields_and_keeps_values(demo, page):
    page.goto("/milano/aderisci/")
    page.fill("#id_name", "Bottega Prova Srl")
    page.select_option("#id_kind", "firm")  # a firm, but no size: an error
    page.fill("#id_tax_code", "123")
    page.fill("#id_contact_name", "Anna Rossi")
    page.fill("#id_email", "non-una-email")
    page.fill("#id_motivation", "Vorremmo offrire il welfare ai nostri 12 addetti.")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Invia la richiesta").click()
    assert navigation.value.status == 422

    assert page.locator("#form-errors").is_visible()
    # The keyboard starts at the first field to correct, not at the top of the page.
    assert page.evaluate("document.activeElement.id") == page.locator('form [aria-invalid="true"]').first.get_attribute("id")
    for field in ("id_size_class", "id_tax_code", "id_email", "id_requested_role"):
        _below(page, f"#{field}", f"#{field}-error")
    assert "16 caratteri" in page.locator("#id_tax_code-error").inner_text()
    privacy_error = page.locator("#id_privacy_acknowledged-error")
    assert privacy_error.is_visible() and "informativa privacy" in privacy_error.inner_text()
    assert page.locator("#id_name").get_attribute("aria-invalid") is None, "a valid field is not marked"

    # What was typed is still there.
    assert page.locator("#id_name").input_value() == "Bottega Prova Srl"
    assert page.locator("#id_kind").input_value() == "firm"
    assert page.locator("#id_tax_code").input_value() == "123"
    assert page.locator("#id_contact_name").input_value() == "Anna Rossi"
    assert page.locator("#id_email").input_value() == "non-una-email"
    assert page.locator("#id_motivation").input_value() == "Vorremmo offrire il welfare ai nostri 12 addetti."

    # Correcting the errors sends the request.
    page.select_option("#id_size_class", "micro")
    page.select_option("#id_requested_role", "member_firm")
    page.fill("#id_tax_code", "01234560017")
    page.fill("#id_email", "anna.rossi@example.org")
    # Bootstrap Italia draws the checkbox with its label (the input itself is hidden): click that.
    page.locator("label[for='id_privacy_acknowledged']").click()
    assert page.locator("#id_privacy_acknowledged").is_checked()
    with page.expect_navigation():
        page.get_by_role("button", name="Invia la richiesta").click()
    assert page.url.endswith("/milano/aderisci/grazie/")
    assert page.get_by_text("Richiesta inviata").first.is_visible()
    request = JoinRequest.objects.get(territory=demo, name="Bottega Prova Srl")
    assert (request.email, request.size_class, request.contact_name) == (
        "anna.rossi@example.org",
        "micro",
        "Anna Rossi",
    )


@pytest.mark.parametrize(
    "path",
    [
        "/milano/notizie/evento-finale-mire-28-novembre-2023/",
        "/milano/organizzazioni/comune-di-milano/",
        "/pagine/privacy/",
    ],
)
def test_save_page_as_pdf_downloads_a_pdf(demo, page, path, tmp_path):
    page.goto(path)
    with page.expect_download(timeout=60_000) as download_info:  # WeasyPrint's first run is slow
        page.get_by_role("link", name="Salva pagina in PDF").click()
    download = download_info.value
    assert download.failure() is None
    assert download.suggested_filename.endswith(".pdf")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    content = Path(saved).read_bytes()
    assert content.startswith(b"%PDF"), content[:40]
    assert len(content) > 1000


def test_leaving_an_empty_field_moves_nothing_below_it(demo, page):
    """Bootstrap Italia dropped the label of a field left empty into it, and everything below moved
    up by a line under the pointer: the click on the privacy box or the send button was lost."""
    page.goto("/milano/aderisci/")
    page.evaluate("document.fonts.ready.then(() => true)")  # the web fonts' swap moves the page too
    # Every position is read in one script, in page coordinates: focus() scrolls the page, and boxes read
    # one after another were once taken on either side of a scroll step (CI saw a label 58 px below its field).
    where = """field => {
        const top = el => el.getBoundingClientRect().top + window.scrollY;
        const label = document.querySelector(`label[for='${field.slice(1)}']`);
        const button = [...document.querySelectorAll("button")].find(b => b.textContent.includes("Invia la richiesta"));
        return {label_bottom: top(label) + label.getBoundingClientRect().height,
                field_top: top(document.querySelector(field)), button: top(button)};
    }"""
    before = page.evaluate(where, "#id_name")["button"]
    for field in ("#id_name", "#id_motivation", "#id_email"):
        page.locator(field).focus()
        page.locator(field).blur()
        seen = page.evaluate(where, field)
        # Dropped in, the label lay inside the field (39 px); Bootstrap Italia's transitions were seen to
        # leave it up to 8 px low for a moment, and to nudge what follows by as much.
        assert seen["label_bottom"] <= seen["field_top"] + 12, f"the label of {field} dropped into it"
        assert abs(seen["button"] - before) < 20, (field, seen["button"] - before)
    assert page.locator("label[for='id_name']").get_attribute("class") == "active"


def test_a_mail_read_on_a_phone_keeps_its_long_links_inside_the_screen(demo, new_page):
    from django.core.mail import EmailMessage

    from core.mail import keep_and_send

    link = "https://mire.example.org/account/password/reset/key/" + "x" * 60 + "-set-password/"
    [kept] = keep_and_send(EmailMessage("Benvenuta nella rete", f"Scegli la tua password: {link}", to=["a@example.org"]))
    page = new_page(viewport={"width": 390, "height": 844})
    page.goto(f"/posta/{kept.token}/")
    assert page.get_by_text("Scegli la tua password").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_the_members_map_works_again_after_going_back(demo, page):
    """htmx puts back a copy of the page holding a lifeless copy of the map: it is drawn again, once."""
    page.goto(DIRECTORY)
    page.wait_for_function("() => window.htmx !== undefined && document.querySelectorAll('.leaflet-marker-icon').length > 0")
    page.select_option("#id_kind", "social_coop")
    page.wait_for_function("() => /[?&]kind=social_coop/.test(location.search)")
    page.go_back()
    page.wait_for_function("() => !/kind=/.test(location.search)")
    page.wait_for_function("() => document.getElementById('members-map')._leaflet_id !== undefined")
    page.wait_for_function("() => document.querySelectorAll('.leaflet-marker-icon').length > 0")
    assert page.locator(".leaflet-control-zoom").count() == 1
