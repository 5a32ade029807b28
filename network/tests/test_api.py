import json
from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils.text import slugify

from core.models import AuditLog, Municipio, SentMail, Territory
from network.models import JoinRequest, NetworkRole, Organisation, OrganisationKind

ORGANISATIONS = "/api/v1/organisations"
JOIN_REQUESTS = "/api/v1/join-requests"
VALID_PARTITA_IVA = "00743110157"
WRONG_CHECK_DIGIT = "00743110158"


def make_territory(slug: str, name: str) -> Territory:
    return Territory.objects.create(
        slug=slug, name=name, network_name=f"Rete {name}", center_latitude=45.46, center_longitude=9.19
    )


def make_organisation(territory: Territory, name: str, **fields) -> Organisation:
    fields.setdefault("kind", OrganisationKind.ASSOCIATION)
    fields.setdefault("network_role", NetworkRole.PARTNER)
    return Organisation.objects.create(territory=territory, name=name, slug=slugify(name), **fields)


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # The join-request limit counts in the cache, which outlives each test's database.
    cache.clear()


@pytest.fixture
def milano(db) -> Territory:
    territory = make_territory("milano", "Milano")
    for number in (1, 2):
        Municipio.objects.create(territory=territory, number=number, name=f"Municipio {number}")
    return territory


@pytest.fixture
def torino(db) -> Territory:
    return make_territory("torino", "Torino")


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["items"]]


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    assert set(body) == {"code", "message", "fields"}
    return body


# The directory


def test_directory_lists_the_active_organisations_of_one_territory_by_name(client, milano, torino):
    make_organisation(milano, "Zeta Cooperativa")
    make_organisation(milano, "Alfa Associazione")
    make_organisation(milano, "Chiusa Srl", is_active=False)
    make_organisation(torino, "Aurora Torino")

    response = client.get(ORGANISATIONS, {"territory": "milano"})

    assert response.status_code == 200
    assert names(response) == ["Alfa Associazione", "Zeta Cooperativa"]
    assert response.json() | {"items": None} == {"items": None, "count": 2, "page": 1, "pages": 1}
    first = response.json()["items"][0]
    assert first["territory"] == "milano"
    assert first["kind"] == "association"
    assert first["url"].endswith("/milano/organizzazioni/alfa-associazione/")


def test_another_territorys_organisation_never_appears_in_milan_even_when_searched(client, milano, torino):
    make_organisation(torino, "Nido Condiviso Torino")

    response = client.get(ORGANISATIONS, {"territory": "milano", "q": "nido"})

    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert client.get(ORGANISATIONS, {"territory": "torino", "q": "nido"}).json()["count"] == 1


def test_directory_filters_by_kind_role_and_municipio(client, milano):
    municipio_2 = Municipio.objects.get(territory=milano, number=2)
    make_organisation(
        milano,
        "Impresa Uno",
        kind=OrganisationKind.FIRM,
        size_class="small",
        network_role=NetworkRole.MEMBER_FIRM,
        municipio=municipio_2,
    )
    make_organisation(
        milano, "Impresa Due", kind=OrganisationKind.FIRM, size_class="large", network_role=NetworkRole.MEMBER_FIRM
    )
    make_organisation(milano, "Sindacato Tre", kind=OrganisationKind.TRADE_UNION, municipio=municipio_2)

    assert names(client.get(ORGANISATIONS, {"territory": "milano", "kind": "firm"})) == ["Impresa Due", "Impresa Uno"]
    assert names(client.get(ORGANISATIONS, {"territory": "milano", "role": "partner"})) == ["Sindacato Tre"]
    assert names(client.get(ORGANISATIONS, {"territory": "milano", "municipio": 2})) == ["Impresa Uno", "Sindacato Tre"]
    assert names(client.get(ORGANISATIONS, {"territory": "milano", "municipio": 2, "kind": "firm"})) == ["Impresa Uno"]
    assert client.get(ORGANISATIONS, {"territory": "milano", "municipio": 2}).json()["items"][0]["municipio"] == 2


def test_free_text_search_finds_words_of_the_description(client, milano):
    make_organisation(milano, "Casa Aperta", description="Un asilo nido aziendale per le famiglie del quartiere")
    make_organisation(milano, "Officina Digitale", description="Formazione sulle competenze digitali")

    assert names(client.get(ORGANISATIONS, {"territory": "milano", "q": "asilo nido"})) == ["Casa Aperta"]
    assert names(client.get(ORGANISATIONS, {"territory": "milano", "q": "officina"})) == ["Officina Digitale"]


def test_pages_split_the_list_and_a_page_past_the_last_is_empty(client, milano):
    for n in range(25):
        make_organisation(milano, f"Organizzazione {n:02d}")

    third = client.get(ORGANISATIONS, {"territory": "milano", "page_size": 10, "page": 3}).json()
    assert [item["name"] for item in third["items"]] == [f"Organizzazione {n}" for n in range(20, 25)]
    assert (third["count"], third["page"], third["pages"]) == (25, 3, 3)

    beyond = client.get(ORGANISATIONS, {"territory": "milano", "page_size": 10, "page": 4}).json()
    assert beyond == {"items": [], "count": 25, "page": 4, "pages": 3}
    far_beyond = client.get(ORGANISATIONS, {"territory": "milano", "page": 10**30})
    assert far_beyond.status_code == 200
    assert far_beyond.json()["items"] == []

    assert len(client.get(ORGANISATIONS, {"territory": "milano"}).json()["items"]) == 20


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"territory": "milano", "page": "abc"}, "page"),
        ({"territory": "milano", "page": 0}, "page"),
        ({"territory": "milano", "page_size": 201}, "page_size"),
        ({"territory": "milano", "kind": "bakery"}, "kind"),
        ({"territory": "milano", "municipio": "due"}, "municipio"),
        ({"territory": "milano", "municipio": 10**30}, "municipio"),
        ({"territory": "milano", "q": "nido\x00"}, "q"),
        ({"territory": "milano", "q": "x" * 201}, "q"),
        ({}, "territory"),
        ({"territory": "atlantide"}, "territory"),
        ({"territory": "mil\x00ano"}, "territory"),
    ],
)
def test_bad_directory_parameters_answer_422_naming_the_field(client, milano, params, field):
    body = assert_error(client.get(ORGANISATIONS, params), 422, "invalid_input")
    assert list(body["fields"]) == [field]
    assert body["fields"][field][0]


def test_an_organisation_is_public_by_id_whatever_its_territory(client, milano, torino):
    organisation = make_organisation(torino, "Aurora Torino", website="https://aurora.example.org")

    response = client.get(f"{ORGANISATIONS}/{organisation.pk}")

    assert response.status_code == 200
    assert response.json()["name"] == "Aurora Torino"
    assert response.json()["territory"] == "torino"
    assert response.json()["website"] == "https://aurora.example.org"


@pytest.mark.parametrize("which", ["inactive", "unknown", "huge", "not_a_number"])
def test_inactive_or_unknown_organisations_answer_404(client, milano, which):
    inactive = make_organisation(milano, "Chiusa Srl", is_active=False)
    path = {
        "inactive": inactive.pk,
        "unknown": inactive.pk + 1000,
        "huge": 10**30,
        "not_a_number": "chiusa-srl",
    }[which]

    body = assert_error(client.get(f"{ORGANISATIONS}/{path}"), 404, "not_found")

    assert body["fields"] == {}
    assert "Chiusa" not in json.dumps(body)


# Applications to join


def application(**overrides) -> dict:
    data = {
        "territory": "milano",
        "name": "Bottega Solidale",
        "kind": "social_coop",
        "requested_role": "partner",
        "tax_code": VALID_PARTITA_IVA,
        "vat_number": VALID_PARTITA_IVA,
        "postal_code": "20121",
        "city": "Milano",
        "municipio": 2,
        "contact_name": "Giulia Rossi",
        "email": "giulia@bottega.example.org",
        "privacy_acknowledged": True,
    }
    return data | overrides


def post(client, data, **headers):
    return client.post(JOIN_REQUESTS, json.dumps(data), content_type="application/json", **headers)


def test_a_valid_application_is_stored_once_and_acknowledged(client, milano):
    response = post(client, application())

    assert response.status_code == 201, response.content
    join_request = JoinRequest.objects.get()
    assert response.json()["id"] == join_request.pk
    assert response.json()["status"] == "pending"
    assert datetime.fromisoformat(response.json()["created_at"]).utcoffset() in {timedelta(hours=1), timedelta(hours=2)}
    assert join_request.territory == milano
    assert join_request.municipio == Municipio.objects.get(territory=milano, number=2)
    assert join_request.privacy_acknowledged_at is not None
    assert SentMail.objects.filter(to="giulia@bottega.example.org").count() == 1
    assert AuditLog.objects.filter(action="join_request.submitted", object_id=str(join_request.pk)).exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"vat_number": WRONG_CHECK_DIGIT}, "vat_number"),
        ({"tax_code": WRONG_CHECK_DIGIT}, "tax_code"),
        ({"privacy_acknowledged": False}, "privacy_acknowledged"),
        ({"privacy_acknowledged": None}, "privacy_acknowledged"),
        ({"kind": "firm"}, "size_class"),  # A firm must say its size, as on the web form.
        ({"kind": "bakery"}, "kind"),
        ({"requested_role": "lead"}, "requested_role"),
        ({"email": "not-an-address"}, "email"),
        ({"name": ""}, "name"),
        ({"name": 42}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Bottega\x00"}, "name"),
        ({"postal_code": "201"}, "postal_code"),
        ({"municipio": 9}, "municipio"),
        ({"territory": "atlantide"}, "territory"),
    ],
)
def test_an_invalid_application_answers_422_with_the_field_and_stores_nothing(client, milano, overrides, field):
    body = assert_error(post(client, application(**overrides)), 422, "invalid_input")

    assert field in body["fields"]
    assert all(isinstance(problem, str) and problem for problem in body["fields"][field])
    assert JoinRequest.objects.count() == 0
    assert SentMail.objects.count() == 0


def test_a_missing_privacy_acknowledgement_is_named(client, milano):
    data = application()
    del data["privacy_acknowledged"]

    body = assert_error(post(client, data), 422, "invalid_input")

    assert body["fields"] == {"privacy_acknowledged": ["Campo obbligatorio."]}
    assert JoinRequest.objects.count() == 0


def test_a_wrong_check_digit_is_explained(client, milano):
    body = assert_error(post(client, application(vat_number=WRONG_CHECK_DIGIT)), 422, "invalid_input")

    assert body["fields"]["vat_number"] == ["La partita IVA non è valida: la cifra di controllo non corrisponde."]


@pytest.mark.parametrize("raw", [b"{not json", b"", b"\xff\xfe", b'"just a string"'])
def test_a_body_that_is_not_a_json_object_answers_400(client, milano, raw):
    response = client.post(JOIN_REQUESTS, raw, content_type="application/json")

    assert_error(response, 400, "malformed_request")
    assert JoinRequest.objects.count() == 0


def test_a_body_over_the_upload_limit_answers_400_not_500(client, milano, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = post(client, application(motivation="x" * 2000))

    assert_error(response, 400, "malformed_request")
    assert JoinRequest.objects.count() == 0


def test_messages_follow_the_request_language(client, milano):
    italian = post(client, application(email="not-an-address")).json()
    english = post(client, application(email="not-an-address"), HTTP_ACCEPT_LANGUAGE="en").json()

    assert italian["fields"]["email"] == ["Inserisci un indirizzo email valido."]
    assert english["fields"]["email"] == ["Enter a valid email address."]


def test_applications_are_rate_limited_per_address(client, milano):
    for _ in range(10):
        post(client, application(email="not-an-address"))

    response = post(client, application())

    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
    assert JoinRequest.objects.count() == 0
    other_client = client.post(
        JOIN_REQUESTS, json.dumps(application()), content_type="application/json", REMOTE_ADDR="192.0.2.7"
    )
    assert other_client.status_code == 201


def test_rate_limits_can_be_lifted_for_load_tests(client, milano, settings):
    settings.RATELIMIT_ENABLED = False
    for _ in range(11):
        post(client, application(email="not-an-address"))

    assert post(client, application()).status_code == 201
