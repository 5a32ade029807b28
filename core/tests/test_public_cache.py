import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_organisation

pytestmark = pytest.mark.django_db


def queries_for(client, url, **headers):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    return response, len(captured.captured_queries)


def test_an_anonymous_directory_page_is_served_from_the_cache_until_an_organisation_changes(client, territory, firm):
    url = "/milano/organizzazioni/?q=officine"
    first, cold = queries_for(client, url)
    again, warm = queries_for(client, url)
    assert cold > 0 and warm == 0
    assert again.content == first.content

    firm.name = "Officine Rinnovate"
    firm.save()
    fresh, _ = queries_for(client, url)
    assert "Officine Rinnovate" in fresh.content.decode()


def test_each_language_and_the_htmx_fragment_have_their_own_copy(client, territory, firm):
    url = "/milano/organizzazioni/"
    italian = client.get(url).content.decode()
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert 'lang="it"' in italian and 'lang="en"' in english.split(">", 2)[1]
    assert "<html" not in fragment


def test_signed_in_people_never_get_a_cached_page(client_as, personas, territory, firm):
    anonymous = client_as(None)
    anonymous.get(firm.get_absolute_url())
    admin = client_as(personas["org_admin"])
    page = admin.get(firm.get_absolute_url()).content.decode()
    assert "Modifica la scheda" in page and "Area riservata" in page


def test_new_organisations_appear_at_once(client, territory):
    client.get("/milano/organizzazioni/")
    make_organisation(territory, "Nuova Impresa Srl")
    assert "Nuova Impresa Srl" in client.get("/milano/organizzazioni/").content.decode()


def test_public_pages_need_no_csrf_cookie(client, territory):
    # A page that set a CSRF cookie could not be shared between visitors.
    response = client.get("/milano/")
    assert "csrftoken" not in response.cookies


def test_language_links_set_the_language_and_only_redirect_inside_the_site(client, territory):
    response = client.get("/lingua/en/", {"next": "/milano/organizzazioni/"})
    assert response.status_code == 302 and response["Location"] == "/milano/organizzazioni/"
    assert response.cookies["django_language"].value == "en"
    assert 'lang="en"' in client.get("/milano/").content.decode()
    assert client.get("/lingua/en/", {"next": "https://evil.example.com/"})["Location"] == "/"
    assert client.get("/lingua/xx/").status_code == 404


def test_a_renamed_organisation_shows_its_new_name_on_every_directory_page_at_once(client, territory, firm):
    # The result cards are cached apart from the pages: a page never asked before must not reuse
    # the old card.
    assert "Officine Test" in client.get("/milano/organizzazioni/", {"kind": "firm"}).content.decode()
    firm.name = "Officine Rinnovate"
    firm.save()
    page = client.get("/milano/organizzazioni/", {"municipio": "3"}).content.decode()
    assert "Officine Rinnovate" in page and "Officine Test" not in page


def test_a_change_that_skips_the_signals_still_shows_once_it_touches_updated_at(client, territory, firm):
    from django.utils import timezone

    from network.models import Organisation

    client.get("/milano/organizzazioni/", {"kind": "firm"})
    Organisation.objects.filter(pk=firm.pk).update(name="Officine Aggiornate", updated_at=timezone.now())
    assert "Officine Aggiornate" in client.get("/milano/organizzazioni/", {"role": "member_firm"}).content.decode()


def test_a_renamed_municipio_shows_on_the_cards(client, territory, firm):
    client.get("/milano/organizzazioni/", {"kind": "firm"})
    municipio = territory.municipi.get(number=3)
    municipio.name = "Municipio 3 – Città Studi"
    municipio.save()
    page = client.get("/milano/organizzazioni/", {"q": "officine"}).content.decode()
    assert "Impresa aderente</span> · Municipio 3 – Città Studi" in page
    assert '<option value="3">Municipio 3 – Città Studi</option>' in page


def test_result_cards_are_kept_per_language(client, territory, firm):
    italian = client.get("/milano/organizzazioni/", {"kind": "firm"}).content.decode()
    english = client.get("/milano/organizzazioni/", {"role": "member_firm"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Impresa aderente</span>" in italian and "Member firm</span>" not in italian
    assert "Member firm</span>" in english and "Impresa aderente</span>" not in english


def test_signed_in_people_see_the_same_cards_and_fresh_names(client_as, personas, territory, firm):
    admin = client_as(personas["org_admin"])
    assert "Officine Test" in admin.get("/milano/organizzazioni/").content.decode()
    firm.name = "Officine Nuove"
    firm.save()
    assert "Officine Nuove" in admin.get("/milano/organizzazioni/").content.decode()


def test_a_territory_changed_through_the_model_shows_at_once_on_its_pages(client, territory, firm):
    # Territory pages read the territory from the cache too.
    assert client.get("/milano/organizzazioni/").status_code == 200
    territory.network_name = "MIRE – Milano in rete"
    territory.save()
    assert "MIRE – Milano in rete" in client.get("/milano/organizzazioni/", {"kind": "firm"}).content.decode()
    territory.is_active = False
    territory.save()
    assert client.get("/milano/organizzazioni/", {"role": "member_firm"}).status_code == 404
    assert client.get("/milano/").status_code == 404


def test_an_unknown_or_overlong_territory_is_not_found(client, territory):
    assert client.get("/roma/organizzazioni/").status_code == 404
    assert client.get(f"/{'m' * 200}/organizzazioni/").status_code == 404


@pytest.mark.parametrize("path", ["/milano/organizzazioni/?kind=firm", "/milano/welfare/?categoria=f"])
def test_going_back_to_a_page_htmx_no_longer_keeps_gets_the_whole_page(client, territory, path):
    # htmx asks again with HX-History-Restore-Request and puts the answer in place of the body: a
    # fragment (or a fragment from the page cache) left a page of bare results, without header or form.
    swap = client.get(path, HTTP_HX_REQUEST="true")
    restore = client.get(path, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert swap.status_code == restore.status_code == 200
    assert "<html" not in swap.content.decode()
    assert "<html" in restore.content.decode() and 'role="search"' in restore.content.decode()
    assert "HX-History-Restore-Request" in restore["Vary"]
