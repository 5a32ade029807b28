"""A worker spends welfare credit in a real browser; the voucher page passes axe."""

import re

import pytest

from .helpers import sign_in

pytestmark = pytest.mark.browser

WORKER = "lavoratore@officine-lambrate.example.org"
SERVICE = "/milano/welfare/servizi/doposcuola-equa/"


def test_a_worker_buys_a_service_and_gets_a_voucher(demo, page, assert_accessible):
    sign_in(page, WORKER, SERVICE)
    buy = page.get_by_role("button", name=re.compile("Acquista per"))
    with page.expect_navigation():
        buy.click()
    assert "/welfare/voucher/" in page.url
    code = page.locator("main .h3").inner_text().strip()
    assert re.fullmatch(r"[2-9A-Z]{10}", code)
    assert page.locator("main svg").count() == 1  # the QR
    assert_accessible(page, f"voucher ({page.url})")
    page.goto("/welfare/il-mio-welfare/")
    assert "420,00" in page.locator("main").inner_text()  # 600,00 − 180,00
    assert_accessible(page, "my welfare")


def test_use_my_position_orders_the_catalogue_nearest_first(demo, new_page):
    # Via Padova, beside the doposcuola of Equa: it comes first, with its distance.
    page = new_page(geolocation={"latitude": 45.4972, "longitude": 9.2208}, permissions=["geolocation"])
    page.goto("/milano/welfare/")
    with page.expect_response(lambda response: "lat=45.497200" in response.url):
        page.get_by_role("button", name="Usa la mia posizione").click()
    first = page.locator("#catalogue-results li").first
    first.wait_for()
    assert "Doposcuola e aiuto compiti" in first.inner_text()
    assert re.search(r"\d+,\d km|\d+ m", first.inner_text())


def test_a_refused_position_is_said_and_the_typed_fields_remain_the_way_on(demo, new_page):
    # No geolocation permission: the click did nothing at all, no word, no change.
    page = new_page(permissions=[])
    page.goto("/milano/welfare/")
    button = page.get_by_role("button", name="Usa la mia posizione")
    button.click()
    status = page.locator("#position-status")
    status.filter(has_text="latitudine e longitudine").wait_for()
    assert status.get_attribute("role") == "status"
    assert button.is_enabled()


def test_a_typed_point_with_decimals_is_accepted_by_the_browser(demo, page):
    page.goto("/milano/welfare/")
    page.get_by_label("Latitudine").fill("45.4972")
    page.get_by_label("Longitudine").fill("9.2208")
    # A number field whose step were 1 would refuse 45.4972 and block the submission.
    assert page.get_by_label("Latitudine").evaluate("input => input.checkValidity()")
    with page.expect_response(lambda response: "lat=45.4972" in response.url):
        page.get_by_role("button", name="Cerca").click()


def test_the_admin_corrects_a_workers_category_on_a_phone(demo, new_page, assert_accessible):
    page = new_page(viewport={"width": 390, "height": 844})
    desk = "/milano/organizzazioni/officine-lambrate/welfare/"
    sign_in(page, "admin@officine-lambrate.example.org", desk)
    field = page.locator("form.mire-inline-category input[name='category']").first
    # In a narrow table cell the input used to shrink to a dash nobody could read or edit.
    assert field.bounding_box()["width"] >= 100
    field.fill("impiegati")
    with page.expect_navigation():
        page.locator("form.mire-inline-category button").first.click()
    assert page.get_by_text("Categoria di").first.is_visible()
    assert page.evaluate("window.scrollY") == 0  # the result is at the top, where the page opens
    assert_accessible(page, "welfare desk at 390 px")


ORG_ADMIN = "admin@officine-lambrate.example.org"


def test_an_import_page_follows_the_worker_and_shows_the_report_when_it_is_done(demo, page, assert_accessible):
    """The page asks for the progress every 2 s and reloads itself with the report once the
    background worker has enrolled the file (here: the test, in the worker's place)."""
    from network.models import Organisation
    from welfare import imports
    from welfare.models import WorkerImport
    from welfare.tests.factories import tax_code

    firm = Organisation.objects.get(territory=demo, slug="officine-lambrate")
    job = WorkerImport.objects.create(
        organisation=firm, total=1,
        rows=[{"line": 2, "who": f"Gaia Sala ({tax_code(901)})", "tax_code": tax_code(901), "first_name": "Gaia",
               "last_name": "Sala", "email": "gaia@example.org", "category": ""}],
        bad_rows=[{"line": 3, "who": "Rosa Verdi (RSSMRA85T10A562X)", "errors": ["codice fiscale non valido"]}],
    )
    sign_in(page, ORG_ADMIN, job.get_absolute_url())
    assert "Iscrizione di 1 lavoratore in corso." in page.locator("main").inner_text()
    assert_accessible(page, "an import under way")

    imports.run_worker_import(import_id=job.pk)
    page.get_by_text("1 lavoratore iscritto; riceverà l'invito per email.").wait_for(timeout=10_000)
    assert "Rosa Verdi (RSSMRA85T10A562X)" in page.locator("main").inner_text()
    assert_accessible(page, "an import's report")


PROVIDER = "fornitore@equa.example.org"


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}])
def test_a_provider_places_a_new_service_by_clicking_the_map(demo, new_page, assert_accessible, viewport):
    from welfare.models import Service

    page = new_page(viewport=viewport)
    sign_in(page, PROVIDER, "/milano/organizzazioni/equa/fornitore/servizi/nuovo/")
    picker = page.locator("[data-location-picker]")
    assert picker.is_visible()  # hidden without JavaScript: the two fields are the way then
    assert page.locator("#id_latitude").input_value() == ""
    page.locator(".mire-map-picker").scroll_into_view_if_needed()
    box = page.locator(".mire-map-picker").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2 - 30)
    latitude, longitude = page.locator("#id_latitude").input_value(), page.locator("#id_longitude").input_value()
    assert re.fullmatch(r"45\.4\d{5}", latitude) and re.fullmatch(r"9\.1\d{5}|9\.2\d{5}", longitude)
    assert "Punto scelto: latitudine" in page.locator("[data-location-picker-status]").inner_text()
    # The keyboard's way (the map's centre, under its cross) fills the fields too.
    page.get_by_role("button", name="Usa il centro della mappa").click()
    assert page.locator("#id_latitude").input_value() == "45.464200"
    assert_accessible(page, "the service form with its map")

    page.fill("#id_title", "Spazio compiti in cortile")
    page.fill("#id_description", "Compiti insieme, il pomeriggio.")
    page.select_option("#id_category", "f_bis")
    page.select_option("#id_delivery", "at_provider")
    page.fill("#id_price", "40")
    page.fill("#id_address", "Via Padova 36, Milano")
    with page.expect_navigation():
        page.get_by_role("button", name="Salva").click()
    service = Service.objects.get(title="Spazio compiti in cortile")
    assert (str(service.latitude), str(service.longitude)) == ("45.464200", "9.190000")
