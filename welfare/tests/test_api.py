"""The welfare API: catalogue search, wallets, idempotent orders, the till, refunds."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import ApiToken, Role
from conftest import make_user
from welfare.models import Category, Order, RefundRequest

from .factories import enrol, ensure_thresholds, make_plan, make_provider, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(territory, firm, coop, personas, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    ensure_thresholds()
    make_plan(firm, amount_cents=30000)
    worker = enrol(firm, 1, user=personas["worker"])
    service = make_service(coop, price_cents=12000, title="Doposcuola del quartiere", category=Category.EDUCATION)
    return {"worker": worker, "service": service, "coop": coop}


def bearer(user) -> dict:
    _token, key = ApiToken.issue(user=user, name="test")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def order(client, auth, service_id, key="k-1", **extra):
    return client.post("/api/v1/welfare/orders", json.dumps({"service": service_id, **extra}),
                       content_type="application/json", HTTP_IDEMPOTENCY_KEY=key, **auth)


def test_catalogue_search_filters_and_distance(client, world, coop):
    far = make_service(coop, title="Palestra lontana", latitude="45.500000", longitude="9.300000")
    near = make_service(coop, title="Palestra vicina", latitude="45.465000", longitude="9.191000")
    make_service(coop, title="Palestra online", delivery="online")
    answer = client.get("/api/v1/welfare/services", {"territory": "milano", "q": "palestra", "lat": "45.4642", "lon": "9.19"}).json()
    assert [s["title"] for s in answer["items"]] == ["Palestra vicina", "Palestra lontana", "Palestra online"]
    assert answer["items"][0]["distance_km"] == pytest.approx(0.12, abs=0.02)
    assert answer["items"][2]["distance_km"] is None
    assert answer["items"][0]["currency"] == "EUR" and answer["count"] == 3
    only = client.get("/api/v1/welfare/services", {"territory": "milano", "category": "f_bis"}).json()
    assert [s["title"] for s in only["items"]] == ["Doposcuola del quartiere"]
    assert client.get("/api/v1/welfare/services", {"territory": "milano", "lat": "45.4"}).status_code == 422
    assert client.get("/api/v1/welfare/services", {"territory": "milano", "category": "cash"}).json()["code"] == "invalid_input"
    assert client.get(f"/api/v1/welfare/services/{near.pk}").json()["provider"]["name"] == "Coop Test"
    assert far.pk
    unknown = client.get("/api/v1/welfare/services", {"territory": "atlantide"})
    assert unknown.status_code == 422 and "territory" in unknown.json()["fields"]


def test_catalogue_by_municipio_lists_each_service_once_with_online_ones(client, world, coop, territory):
    from core.models import Municipio

    three, five, seven = (Municipio.objects.get(territory=territory, number=n) for n in (3, 5, 7))
    both = make_service(coop, title="Assistenza domiciliare", delivery="at_home")
    both.municipi.set([three, five])  # two links: a join would list it twice
    make_service(coop, title="Sportello di Lambrate").municipi.set([three])
    make_service(coop, title="Corso online", delivery="online")
    make_service(coop, title="Centro estivo di Baggio").municipi.set([seven])
    answer = client.get("/api/v1/welfare/services", {"territory": "milano", "municipio": 3, "page_size": 2}).json()
    assert answer["count"] == 3 and answer["pages"] == 2
    titles = [s["title"] for s in answer["items"]]
    titles += [s["title"] for s in client.get("/api/v1/welfare/services", {
        "territory": "milano", "municipio": 3, "page_size": 2, "page": 2}).json()["items"]]
    assert sorted(titles) == ["Assistenza domiciliare", "Corso online", "Sportello di Lambrate"]
    near = client.get("/api/v1/welfare/services", {"territory": "milano", "municipio": 5, "lat": "45.46", "lon": "9.19"}).json()
    assert sorted(s["title"] for s in near["items"]) == ["Assistenza domiciliare", "Corso online"]


def test_wallets_show_balance_and_headroom(client, world, personas):
    wallets = client.get("/api/v1/welfare/wallets", **bearer(personas["worker"])).json()
    assert wallets["count"] == 1
    assert wallets["items"][0]["balance_cents"] == 30000 and wallets["items"][0]["fringe_headroom_cents"] == 100000
    assert client.get("/api/v1/welfare/wallets", **bearer(personas["org_admin"])).status_code == 403
    assert client.get("/api/v1/welfare/wallets").status_code == 401


def test_an_order_is_201_and_a_replay_returns_the_first_answer(client, world, personas):
    auth = bearer(personas["worker"])
    first = order(client, auth, world["service"].pk)
    assert first.status_code == 201
    again = order(client, auth, world["service"].pk)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Order.objects.count() == 1
    other = make_service(world["coop"], price_cents=100)
    reused = order(client, auth, other.pk)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"


def test_order_refusals_have_stable_codes_and_change_nothing(client, world, personas, coop):
    auth = bearer(personas["worker"])
    missing_key = client.post("/api/v1/welfare/orders", json.dumps({"service": world["service"].pk}),
                              content_type="application/json", **auth)
    assert missing_key.status_code == 422 and "Idempotency-Key" in missing_key.json()["fields"]
    expensive = make_service(coop, price_cents=30001, category=Category.EDUCATION)
    refused = order(client, auth, expensive.pk, key="k-2")
    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_credit"
    assert order(client, auth, 999999, key="k-3").status_code == 422
    english = client.post("/api/v1/welfare/orders", json.dumps({"service": expensive.pk}), content_type="application/json",
                          HTTP_IDEMPOTENCY_KEY="k-4", HTTP_ACCEPT_LANGUAGE="en", **auth)
    assert english.json()["message"].startswith("Insufficient credit")
    assert not Order.objects.exists()


def test_threshold_exceeded_is_409_with_the_headroom(client, territory, firm, coop, personas):
    ensure_thresholds()
    make_plan(firm, amount_cents=150000, categories=["fringe"])
    enrol(firm, 2, user=personas["worker"])
    auth = bearer(personas["worker"])
    assert order(client, auth, make_service(coop, category="fringe", price_cents=90000).pk, key="a").status_code == 201
    refused = order(client, auth, make_service(coop, category="fringe", price_cents=20000).pk, key="b")
    assert refused.status_code == 409 and refused.json()["code"] == "threshold_exceeded"
    assert "100,00" in refused.json()["message"]


def test_the_till_redeems_once_and_hides_other_providers_vouchers(client, world, personas, territory):
    placed = order(client, bearer(personas["worker"]), world["service"].pk).json()
    till = bearer(personas["provider_staff"])
    url = "/api/v1/welfare/vouchers/redeem"
    ok = client.post(url, json.dumps({"code": placed["code"]}), content_type="application/json", **till)
    assert ok.status_code == 200 and ok.json()["status"] == "redeemed" and ok.json()["worker_name"] == "Nome1 Prova"
    twice = client.post(url, json.dumps({"code": placed["code"]}), content_type="application/json", **till)
    assert twice.status_code == 409 and twice.json()["code"] == "already_redeemed"
    # A firm is no provider: its staff have no till.
    firm_staff = client.post(url, json.dumps({"code": placed["code"]}), content_type="application/json",
                             **bearer(personas["org_staff"]))
    assert firm_staff.status_code == 403
    # Another provider's staff never learn that the code exists.
    from conftest import make_user

    other_staff = make_user("cassa@altro.example.org")
    Role.objects.create(user=other_staff, kind="provider_staff", territory=territory,
                        organisation=make_provider(territory, name="Altro Fornitore"))
    fresh = order(client, bearer(personas["worker"]), world["service"].pk, key="k-other").json()
    unknown = client.post(url, json.dumps({"code": fresh["code"]}), content_type="application/json",
                          **bearer(other_staff))
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"
    assert client.post(url, json.dumps({"code": placed["code"]}), content_type="application/json",
                       **bearer(personas["worker"])).status_code == 403


def test_refund_request_by_api(client, world, personas):
    auth = bearer(personas["worker"])
    wallet = world["worker"].wallets.get()
    data = {"wallet": wallet.pk, "category": "f_bis", "amount_cents": 5000, "description": "Retta del nido",
            "expense_date": wallet.plan.valid_from.isoformat(),
            "receipt": SimpleUploadedFile("r.pdf", b"%PDF-1.4 ricevuta", content_type="application/pdf")}
    made = client.post("/api/v1/welfare/refunds", data, HTTP_IDEMPOTENCY_KEY="r-1", **auth)
    assert made.status_code == 201, made.json()
    assert made.json()["status"] == "pending"
    assert client.get("/api/v1/welfare/wallets", **auth).json()["items"][0]["balance_cents"] == 25000
    letter_f = {**data, "category": "f", "receipt": SimpleUploadedFile("r.pdf", b"%PDF-1.4 x")}
    assert client.post("/api/v1/welfare/refunds", letter_f, HTTP_IDEMPOTENCY_KEY="r-2", **auth).status_code == 422
    not_a_pdf = {**data, "receipt": SimpleUploadedFile("r.pdf", b"MZ executable")}
    bad = client.post("/api/v1/welfare/refunds", not_a_pdf, HTTP_IDEMPOTENCY_KEY="r-3", **auth)
    assert bad.status_code == 422 and "receipt" in bad.json()["fields"]
    assert RefundRequest.objects.count() == 1
    assert client.get("/api/v1/welfare/refunds", **auth).json()["count"] == 1
    for header in ("multipart/form-data", "multipart/form-data; boundary="):  # no boundary to read the parts by
        broken = client.post("/api/v1/welfare/refunds", b"--x--", content_type=header, HTTP_IDEMPOTENCY_KEY="r-4", **auth)
        assert broken.status_code == 400 and broken.json()["code"] == "malformed_request", broken.content
    assert RefundRequest.objects.count() == 1


def test_a_worker_sees_only_their_own_orders(client, world, personas, firm, territory):
    order(client, bearer(personas["worker"]), world["service"].pk)
    colleague = make_user("collega@example.org")
    enrol(firm, 9, user=colleague)
    assert client.get("/api/v1/welfare/orders", **bearer(colleague)).json()["count"] == 0
    assert client.get("/api/v1/welfare/orders", **bearer(personas["worker"])).json()["count"] == 1
    assert make_provider(territory).pk


def test_the_longest_idempotency_key_is_accepted(client, world, personas):
    answer = order(client, bearer(personas["worker"]), world["service"].pk, key="k" * 255)
    assert answer.status_code == 201
    assert order(client, bearer(personas["worker"]), world["service"].pk, key="k" * 256).status_code == 422


def test_a_draft_service_is_as_unknown_to_buyers_as_a_missing_one(client, world, personas, coop):
    auth = bearer(personas["worker"])
    draft = make_service(coop, price_cents=100, is_published=False)
    answers = [order(client, auth, service_id, key=f"k-{service_id}") for service_id in (draft.pk, 999999)]
    assert [a.status_code for a in answers] == [422, 422]
    assert answers[0].json() == answers[1].json()  # nothing tells a draft from a missing service
    assert client.get(f"/api/v1/welfare/services/{draft.pk}").status_code == 404
    assert Order.objects.count() == 0
