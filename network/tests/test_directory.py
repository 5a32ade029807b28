"""The public directory of a territory's organisations: filters, search, pages, htmx, isolation."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from conftest import make_organisation

pytestmark = pytest.mark.django_db

DIRECTORY = reverse("network:directory", kwargs={"territory": "milano"})
MAP = reverse("network:directory_map", kwargs={"territory": "milano"})
EMPTY_STATE = "Nessuna organizzazione corrisponde a questi filtri."


def listed(response) -> list[str]:
    """The organisation names shown as result cards, in order."""
    assert response.status_code == 200
    return re.findall(r'<h2 class="card-title h5"><a href="[^"]+">([^<]+)</a></h2>', response.content.decode())


@pytest.fixture
def network(territory, firm, coop, other_territory):
    """Milan's members of several kinds and places, plus what must never be listed in Milan."""
    municipio = territory.municipi.get
    make_organisation(
        territory,
        "Cooperativa Sociale X",
        kind="social_coop",
        network_role="provider",
        municipio=municipio(number=5),
        description="Servizi di cura e asilo nido aziendale.",
        latitude="45.450000",
        longitude="9.180000",
    )
    make_organisation(
        territory, "Comune di Milano", kind="public_body", network_role="lead", municipio=municipio(number=1)
    )
    make_organisation(
        territory,
        "Vecchia Associazione",
        kind="association",
        network_role="partner",
        is_active=False,
        latitude="45.470000",
        longitude="9.200000",
    )
    return make_organisation(
        other_territory,
        "Cooperativa Orobica",
        kind="social_coop",
        network_role="provider",
        latitude="45.690000",
        longitude="9.670000",
    )


def test_without_filters_lists_every_active_milan_organisation_by_name(client, network):
    response = client.get(DIRECTORY)
    assert listed(response) == ["Comune di Milano", "Coop Test", "Cooperativa Sociale X", "Officine Test"]
    assert "4 organizzazioni trovate" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ({"kind": "social_coop"}, ["Coop Test", "Cooperativa Sociale X"]),
        ({"kind": "public_body"}, ["Comune di Milano"]),
        ({"role": "lead"}, ["Comune di Milano"]),
        ({"role": "member_firm"}, ["Officine Test"]),
        ({"municipio": "3"}, ["Officine Test"]),
        ({"municipio": "5", "kind": "social_coop"}, ["Cooperativa Sociale X"]),
        ({"municipio": "5", "kind": "firm"}, []),
    ],
)
def test_filters(client, network, query, names):
    assert listed(client.get(DIRECTORY, query)) == names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("cooperativa", ["Cooperativa Sociale X"]),
        ("COOPERATIVA sociale", ["Cooperativa Sociale X"]),
        ("asilo nido", ["Cooperativa Sociale X"]),  # the description counts, not only the name
        ("officine", ["Officine Test"]),
    ],
)
def test_text_search(client, network, text, names):
    assert listed(client.get(DIRECTORY, {"q": text})) == names


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Italian stemming needs PostgreSQL full-text search; SQLite matches substrings only",
)
def test_search_finds_other_forms_of_a_word_on_postgresql(client, network):
    assert listed(client.get(DIRECTORY, {"q": "cooperative"})) == ["Cooperativa Sociale X"]


@pytest.mark.parametrize("text", ["universita bicocca", "Università Bicocca", "UNIVERSITÀ", "abcitta"])
def test_accents_do_not_matter_either_way(client, network, territory, text):
    make_organisation(territory, "Università di Milano-Bicocca", kind="university", network_role="partner",
                      description="Ricerca su welfare e ABCittà.")
    assert listed(client.get(DIRECTORY, {"q": text})) == ["Università di Milano-Bicocca"]


def test_nothing_found_says_so(client, network):
    response = client.get(DIRECTORY, {"q": "astronautica"})
    assert listed(response) == []
    content = response.content.decode()
    assert "0 organizzazioni trovate" in content
    assert EMPTY_STATE in content


def test_twenty_five_organisations_make_two_pages(client, territory):
    for n in range(1, 26):
        make_organisation(territory, f"Impresa {n:02d}")

    first = client.get(DIRECTORY)
    assert listed(first) == [f"Impresa {n:02d}" for n in range(1, 21)]
    assert "Pagina 1 di 2" in first.content.decode()

    second = client.get(DIRECTORY, {"page": 2})
    assert listed(second) == [f"Impresa {n:02d}" for n in range(21, 26)]
    assert "Pagina 2 di 2" in second.content.decode()


def test_page_links_keep_the_filters(client, territory):
    for n in range(1, 26):
        make_organisation(territory, f"Impresa {n:02d}")
    response = client.get(DIRECTORY, {"kind": "firm"})
    assert 'href="?kind=firm&amp;page=2"' in response.content.decode()


def test_inactive_organisations_are_hidden_everywhere(client, network, territory):
    assert "Vecchia Associazione" not in listed(client.get(DIRECTORY, {"q": "vecchia"}))
    assert "Vecchia Associazione" not in [p["name"] for p in client.get(MAP).json()["points"]]
    page = reverse("network:organisation", kwargs={"territory": "milano", "slug": "vecchia-associazione"})
    assert client.get(page).status_code == 404


def test_another_territorys_organisations_never_show_in_milan(client, network):
    assert "Cooperativa Orobica" not in listed(client.get(DIRECTORY))
    assert listed(client.get(DIRECTORY, {"q": "orobica"})) == []
    assert [p["name"] for p in client.get(MAP).json()["points"]] == ["Cooperativa Sociale X"]
    milan_address = reverse("network:organisation", kwargs={"territory": "milano", "slug": network.slug})
    assert client.get(milan_address).status_code == 404
    bergamo_address = reverse("network:organisation", kwargs={"territory": "bergamo", "slug": network.slug})
    assert client.get(bergamo_address).status_code == 200


def test_map_follows_the_filters(client, network):
    assert client.get(MAP, {"kind": "public_body"}).json()["points"] == []
    [point] = client.get(MAP, {"kind": "social_coop"}).json()["points"]
    assert point["name"] == "Cooperativa Sociale X"
    assert point["url"] == reverse(
        "network:organisation", kwargs={"territory": "milano", "slug": "cooperativa-sociale-x"}
    )


def test_htmx_request_gets_only_the_results(client, network):
    response = client.get(DIRECTORY, {"kind": "social_coop"}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert listed(response) == ["Coop Test", "Cooperativa Sociale X"]
    assert "<html" not in content
    assert "<form" not in content
    assert "2 organizzazioni trovate" in content
    # The address changed (hx-push-url): the header's language links follow it, out of band.
    assert content.count('id="mire-lang"') == 1 and 'hx-swap-oob="true"' in content
    assert "/lingua/en/?next=/milano/organizzazioni/%3Fkind%3Dsocial_coop" in content
    full = client.get(DIRECTORY, {"kind": "social_coop"}).content.decode()
    assert full.count('id="mire-lang"') == 1 and "hx-swap-oob" not in full


def test_page_and_fragment_vary_on_hx_request(client, network):
    # One URL serves both: a cache in between must not hand the fragment to a full page load.
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.get(DIRECTORY, **headers)
        assert "hx-request" in [v.strip().lower() for v in response["Vary"].split(",")]


@pytest.mark.parametrize(
    "query",
    [
        {"kind": "astronave"},
        {"role": "capo"},
        {"municipio": "tre"},
        {"municipio": "99"},
        {"page": "ultima"},
        {"page": "999"},
        {"page": "-1"},
        {"q": "x" * 500},
        {"q": "\"unbalanced ' quotes & or | !"},
    ],
)
def test_nonsense_filters_do_not_break_the_page(client, network, query):
    assert client.get(DIRECTORY, query).status_code == 200
    assert client.get(DIRECTORY, query, HTTP_HX_REQUEST="true").status_code == 200
    assert client.get(MAP, query).status_code == 200


@pytest.mark.django_db
def test_an_invalid_filter_keeps_the_valid_ones(client, territory):
    from conftest import make_organisation

    make_organisation(territory, "Cooperativa Arcobaleno", kind="social_coop", network_role="provider")
    make_organisation(territory, "Officina Rossi")
    page = client.get("/milano/organizzazioni/", {"q": "arcobaleno", "kind": "xyz"}).content.decode()
    assert "Cooperativa Arcobaleno" in page
    assert "Officina Rossi" not in page


def test_a_card_shows_kind_size_role_and_municipio_in_the_visitors_language(client, territory, firm):
    italian = client.get(DIRECTORY).content.decode()
    assert "Impresa · Piccola (10-49 addetti)" in italian
    assert '<span class="badge bg-primary">Impresa aderente</span> · Municipio 3' in italian
    english = client.get(DIRECTORY, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Firm · Small (10-49 staff)" in english
    assert '<span class="badge bg-primary">Member firm</span> · Municipio 3' in english


@pytest.mark.parametrize("query", [{}, {"q": "impresa"}, {"q": "impresa", "kind": "firm", "municipio": "2"}])
def test_far_pages_read_by_id_list_the_same_organisations(client, territory, monkeypatch, query):
    # Deep pages take another query (ids from the index, then the rows); with the threshold at 0
    # every page after the first does, so a few rows show whether it filters and orders the same.
    from network import views

    for n in range(1, 46):
        make_organisation(territory, f"Impresa {n:02d}", municipio=territory.municipi.get(number=2 if n % 3 else 4))
    make_organisation(territory, "Cooperativa Zeta", kind="social_coop", network_role="provider")
    expected = listed(client.get(DIRECTORY, {**query, "page": 2}))
    monkeypatch.setattr(views, "DEEP_PAGE_OFFSET", 0)
    assert listed(client.get(DIRECTORY, {**query, "page": 2, "bench": "deep"})) == expected
    assert expected  # the second page is not empty


def test_a_count_in_the_thousands_is_grouped_as_each_language_writes_it(client, territory):
    from network.models import Organisation

    Organisation.objects.bulk_create(
        Organisation(territory=territory, name=f"Impresa {n:04}", slug=f"impresa-{n:04}", kind="firm",
                     size_class="micro", network_role="member_firm")
        for n in range(1234)
    )
    assert "1.234 organizzazioni trovate" in client.get(DIRECTORY).content.decode()
    assert "1,234 organisations found" in client.get(DIRECTORY, HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_a_filter_change_reads_out_the_count_not_the_whole_list(client, network):
    page = client.get(DIRECTORY).content.decode()
    assert 'aria-live' not in page.split('id="directory-results"')[1].split(">")[0]
    assert '<p id="directory-count" class="visually-hidden" role="status"></p>' in page
    fragment = client.get(DIRECTORY, {"kind": "social_coop"}, HTTP_HX_REQUEST="true").content.decode()
    assert '<p id="directory-count" hx-swap-oob="innerHTML">2 organizzazioni trovate</p>' in fragment
    # Going Back asks for the whole page: one count region, one set of language links.
    restored = client.get(DIRECTORY, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true").content.decode()
    assert restored.count('id="directory-count"') == 1 and restored.count('id="mire-lang"') == 1
