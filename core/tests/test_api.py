import json

import pytest

from core.models import Municipio, Territory


def make_territory(slug: str, name: str, **fields) -> Territory:
    return Territory.objects.create(
        slug=slug,
        name=name,
        network_name=f"Rete {name}",
        center_latitude=45.464211,
        center_longitude=9.191383,
        **fields,
    )


@pytest.fixture
def milano(db) -> Territory:
    territory = make_territory("milano", "Milano", region="Lombardia")
    Municipio.objects.create(territory=territory, number=2, name="Municipio 2")
    Municipio.objects.create(territory=territory, number=1, name="Municipio 1")
    return territory


def test_territories_lists_the_active_ones_by_name(client, milano):
    make_territory("torino", "Torino")
    make_territory("chiuso", "Abbandonato", is_active=False)

    body = client.get("/api/v1/territories").json()

    assert [t["slug"] for t in body["items"]] == ["milano", "torino"]
    assert (body["count"], body["page"], body["pages"]) == (2, 1, 1)
    assert body["items"][0]["network_name"] == "Rete Milano"
    assert body["items"][0]["center_latitude"] == pytest.approx(45.464211)
    assert body["items"][0]["url"].endswith("/milano/")


def test_a_territory_lists_its_municipi_in_order(client, milano):
    response = client.get("/api/v1/territories/milano")

    assert response.status_code == 200
    assert response.json()["region"] == "Lombardia"
    assert response.json()["municipi"] == [{"number": 1, "name": "Municipio 1"}, {"number": 2, "name": "Municipio 2"}]


def test_a_territory_says_who_controls_its_data_and_how_to_reach_the_dpo(client, milano):
    Territory.objects.filter(pk=milano.pk).update(
        data_controller="Comune di Milano", dpo_email="rpd@comune.milano.example.org", description_en="A network.")
    body = client.get("/api/v1/territories/milano").json()
    assert (body["data_controller"], body["dpo_email"], body["description_en"]) == (
        "Comune di Milano", "rpd@comune.milano.example.org", "A network.")


@pytest.mark.parametrize("path", ["chiuso", "atlantide", "mil%00ano", "milano/extra"])
def test_inactive_unknown_or_malformed_territories_answer_404_json(client, milano, path):
    make_territory("chiuso", "Abbandonato", is_active=False)

    response = client.get(f"/api/v1/territories/{path}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["message"] == "Risorsa non trovata."
    assert response.json()["fields"] == {}


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/territori"), ("post", "/api/v1/territori"), ("get", "/api/v1/"),
    ("get", "/api/v1/events/1%0A"), ("delete", "/api/v1/nope/1"),
])
def test_a_mistyped_api_address_answers_json_not_the_html_404(client, db, method, path):
    response = getattr(client, method)(path)

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"code": "not_found", "message": "Risorsa non trovata.", "fields": {}}


@pytest.mark.parametrize("method", ["delete", "put", "patch", "options"])
def test_a_method_an_address_does_not_take_answers_json_405_with_allow(client, db, method):
    response = getattr(client, method)("/api/v1/territories", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "method_not_allowed" and "Allow" in response.json()["message"]
    assert "GET" in response["Allow"]


def test_errors_speak_italian_by_default_and_english_when_asked(client, db):
    italian = client.get("/api/v1/territories?page=0")
    english = client.get("/api/v1/territories?page=0", HTTP_ACCEPT_LANGUAGE="en")

    assert (italian.status_code, english.status_code) == (422, 422)
    assert italian.json()["message"] == "Alcuni dati non sono validi."
    assert italian.json()["fields"] == {"page": ["Deve essere almeno 1."]}
    assert english.json()["message"] == "Some data are not valid."
    assert english.json()["fields"] == {"page": ["Must be at least 1."]}
    not_found = client.get("/api/v1/territories/atlantide", HTTP_ACCEPT_LANGUAGE="en")
    assert not_found.json()["message"] == "Not found."


def test_the_openapi_document_lists_every_endpoint_with_app_named_ids(client, db):
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    schema = json.loads(response.content)
    operations = {
        path: {method: op["operationId"] for method, op in methods.items()} for path, methods in schema["paths"].items()
    }
    assert operations == {
        "/api/v1/territories": {"get": "core_list_territories"},
        "/api/v1/territories/{slug}": {"get": "core_get_territory"},
        "/api/v1/organisations": {"get": "network_list_organisations"},
        "/api/v1/organisations/{organisation_id}": {"get": "network_get_organisation"},
        "/api/v1/join-requests": {"post": "network_submit_join_request"},
        "/api/v1/events": {"get": "events_list_events", "post": "events_create_event"},
        "/api/v1/events/{event_id}": {"get": "events_get_event"},
        "/api/v1/events/{event_id}/registrations": {"post": "events_register", "get": "events_list_registrations"},
        "/api/v1/registrations/{token}": {"get": "events_get_registration"},
        "/api/v1/registrations/{token}/cancel": {"post": "events_cancel_registration"},
        "/api/v1/events/{event_id}/check-ins": {"post": "events_check_in"},
        "/api/v1/events/{event_id}/check-ins/{ticket_code}": {"delete": "events_undo_check_in"},
        "/api/v1/me": {"get": "accounts_me"},
        "/api/v1/welfare/services": {"get": "welfare_list_services"},
        "/api/v1/welfare/services/{service_id}": {"get": "welfare_get_service"},
        "/api/v1/welfare/wallets": {"get": "welfare_list_wallets"},
        "/api/v1/welfare/orders": {"post": "welfare_create_order", "get": "welfare_list_orders"},
        "/api/v1/welfare/vouchers/redeem": {"post": "welfare_redeem_voucher"},
        "/api/v1/welfare/refunds": {"post": "welfare_request_refund", "get": "welfare_list_refunds"},
    }
    assert schema["paths"]["/api/v1/me"]["get"]["security"] == [{"BearerToken": []}]


def test_the_api_docs_page_answers_with_swagger_ui_served_by_the_platform(client, db):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert b"openapi.json" in response.content
    # From our own static files: the page works on a network without internet, and no third party
    # sees who reads the API's documentation.
    assert b"/static/ninja/swagger-ui-bundle" in response.content
    assert b"cdn.jsdelivr.net" not in response.content


def test_the_openapi_document_declares_each_operations_errors_in_the_one_shape(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["components"]["schemas"]["Error"]["required"] == ["code", "message", "fields"]
    operations = {op["operationId"]: op for methods in schema["paths"].values() for op in methods.values()}
    for operation in operations.values():
        for status, answer in operation["responses"].items():
            if int(status) >= 400:
                assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}

    def errors(operation_id):
        return {int(status) for status in operations[operation_id]["responses"] if int(status) >= 400}

    assert errors("welfare_create_order") == {400, 401, 403, 409, 422}
    assert errors("events_register") == {400, 404, 409, 422, 429}
    assert errors("network_submit_join_request") == {400, 422, 429}
    assert errors("events_get_event") == {404}
    assert errors("accounts_me") == {401}


def test_the_openapi_document_gives_each_status_its_own_values(client, db):
    # Order.Status, RefundRequest.Status and Registration.Status share a class name: the document
    # kept one "Status" schema (the refunds') for all, so a client generated from it refused real orders.
    from events.models import Registration
    from welfare.models import Order, RefundRequest

    schema = client.get("/api/v1/openapi.json").json()
    components = schema["components"]["schemas"]

    def values(node: dict) -> list[str]:
        node = next((option for option in node.get("anyOf", [node]) if option.get("type") != "null"), node)
        return components[node["$ref"].rsplit("/", 1)[-1]]["enum"] if "$ref" in node else node["enum"]

    def parameter(path: str, name: str) -> dict:
        return next(p["schema"] for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name)

    assert values(components["OrderOut"]["properties"]["status"]) == list(Order.Status.values)
    assert values(components["RefundOut"]["properties"]["status"]) == list(RefundRequest.Status.values)
    assert values(parameter("/api/v1/welfare/orders", "status")) == list(Order.Status.values)
    assert values(parameter("/api/v1/events/{event_id}/registrations", "status")) == list(Registration.Status.values)
    key = next(p for p in schema["paths"]["/api/v1/welfare/orders"]["post"]["parameters"] if p["name"] == "Idempotency-Key")
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}
