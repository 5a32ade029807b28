"""Who may call what in /api/v1: every operation of the OpenAPI document, called by every kind of caller.

Callers: no token, an invalid token, a coordinator's browser session without a token, a bearer token
of each persona, and one of the other territory's coordinator. The table must name every operation
the API publishes (a test compares it with /api/v1/openapi.json), so a new endpoint cannot be added
without saying who may call it.

Every refusal (every 4xx) must answer the API's error shape {code, message, fields}; every operation
that changes something says how to see the change, and after the walk we check that it happened for
exactly the callers who were let in.
"""

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import uuid4

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken, User
from conftest import PERSONAS
from events import services
from events.models import Event, Question, Registration
from events.tests.factories import make_event, person
from network.models import JoinRequest, Organisation
from welfare import services as welfare
from welfare.models import Category, Order, RefundRequest, Service, Transfer, Wallet
from welfare.tests.factories import enrol, ensure_thresholds, make_plan, make_service

pytestmark = pytest.mark.django_db

API = "/api/v1"
NO_TOKEN = "no token"
BAD_TOKEN = "invalid token"
SESSION = "coordinator session, no token"
CALLERS = [NO_TOKEN, BAD_TOKEN, SESSION, *PERSONAS, "other_coordinator"]
UNAUTHENTICATED = {NO_TOKEN, BAD_TOKEN, SESSION}

PUBLIC = "public"  # anyone, with or without a token (a token is not even looked at)
TOKEN = "any valid token"
RESTRICTED = "restricted"  # a valid token of one of Op.may

COORDINATORS = frozenset({"coordinator"})
# Perm.CHECK_IN_ATTENDEES at an event the firm organises.
DOOR_STAFF = frozenset({"coordinator", "org_admin", "org_staff"})
# Welfare: the worker enrolled by the firm, and the cooperative's provider staff at the till.
WORKER = frozenset({"worker"})
PROVIDER_STAFF = frozenset({"provider_staff"})


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class ApiWorld:
    """What the operations point at, all in Milan."""

    organisation: Organisation
    event: Event  # published, upcoming, organised by the firm, with a table and an optional question
    registration: Registration  # confirmed, for `event`
    service: Service  # the cooperative's, published, 50 € (lett. f)
    wallet: Wallet  # the `worker` persona's, in the firm's funded plan (500 €, every category)
    redeemed: Order  # the worker's voucher, already used
    # What each state-changing operation acted on, by operation id.
    touched: dict[str, object] = field(default_factory=dict)
    _people: itertools.count = field(default_factory=lambda: itertools.count(100))

    def confirmed(self, operation: str) -> Registration:
        reg = services.register_attendee(event=self.event, data=person(next(self._people)))
        assert reg.status == Registration.Status.CONFIRMED
        self.touched[operation] = reg
        return reg

    def checked_in(self, operation: str) -> Registration:
        reg = self.confirmed(operation)
        services.check_in(event=self.event, ticket_code=reg.ticket_code, actor=None)
        return reg

    def touch(self, operation: str, value):
        self.touched[operation] = value
        return value

    def new_order(self, operation: str) -> Order:
        worker = self.wallet.worker
        order = welfare.place_order(worker=worker, service=self.service, key=str(uuid4()), actor=worker.user)
        return self.touch(operation, order)


def receipt(content: bytes = b"%PDF-1.4 x") -> SimpleUploadedFile:
    return SimpleUploadedFile("ricevuta.pdf", content, content_type="application/pdf")


@pytest.fixture
def api_world(territory, firm, coop, other_territory, personas, settings, tmp_path) -> ApiWorld:
    settings.MEDIA_ROOT = tmp_path  # the refund receipts
    event = make_event(territory, table_mode="first_come", tables=[("Welfare aziendale", 20)])
    event.organisers.set([firm])
    Question.objects.create(event=event, label="Come ci hai conosciuto?", kind=Question.Kind.TEXT)
    registration = services.register_attendee(event=event, data=person(1))

    ensure_thresholds()
    plan = make_plan(firm)
    worker = enrol(firm, 1, user=personas["worker"])
    service = make_service(coop, title="Yoga in pausa pranzo", address="Via Padova 21")
    redeemed = welfare.place_order(worker=worker, service=service, key="used", actor=personas["worker"])
    welfare.redeem_voucher(code=redeemed.code, provider=coop, actor=personas["provider_staff"])
    return ApiWorld(
        organisation=firm,
        event=event,
        registration=registration,
        service=service,
        wallet=worker.wallets.get(plan=plan),
        redeemed=redeemed,
    )


def _local_iso(days: int, hours: int = 0) -> str:
    return (timezone.now() + timedelta(days=days, hours=hours)).replace(microsecond=0).isoformat()


def _new_event(w: ApiWorld) -> dict:
    return {
        "territory": "milano",
        "slug": w.touch("events_create_event", "nato-dalla-walk-api"),
        "title": "Nato dalla walk dell'API",
        "summary": "Un evento creato da un gestionale.",
        "starts_at": _local_iso(40),
        "ends_at": _local_iso(40, 4),
        "capacity": 30,
        "organisers": [w.organisation.pk],
    }


def _signup(w: ApiWorld) -> dict:
    return {
        "first_name": "Giulia",
        "last_name": "Verdi",
        "email": w.touch("events_register", "giulia.verdi@example.org"),
        "privacy_acknowledged": True,
        "table_id": w.event.tables.get().pk,
    }


def _application(w: ApiWorld) -> dict:
    return {
        "territory": "milano",
        "name": w.touch("network_submit_join_request", "Bottega della walk"),
        "kind": "social_coop",
        "requested_role": "partner",
        "tax_code": "00743110157",
        "contact_name": "Giulia Rossi",
        "email": "giulia@bottega.example.org",
        "privacy_acknowledged": True,
    }


@dataclass(frozen=True)
class Op:
    method: str
    path: str  # as the OpenAPI document writes it
    access: str
    params: Callable[[ApiWorld], dict] = lambda w: {}  # the path's parameters
    query: dict | None = None
    body: Callable[[ApiWorld], dict] | None = None
    may: frozenset[str] = COORDINATORS
    ok: int = 200
    idempotent: bool = False  # sends a new Idempotency-Key (required by the operation)
    multipart: bool = False  # the body is a form with files, not JSON
    # Given the world after the walk, did the operation change what it acted on?
    changed: Callable[[ApiWorld], bool] | None = None


def _refetch(obj):
    return type(obj).objects.get(pk=obj.pk)


def event_id(w: ApiWorld) -> dict:
    return {"event_id": w.event.pk}


def _order(w: ApiWorld) -> dict:
    service = w.touch("welfare_create_order", make_service(w.service.provider, address="Via Padova 21"))
    return {"service": service.pk}


def _refund(w: ApiWorld, **changes) -> dict:
    description = w.touch("welfare_request_refund", "Centro estivo di luglio")
    return {
        "wallet": w.wallet.pk,
        "category": Category.EDUCATION.value,
        "amount_cents": 12050,
        "description": description,
        "expense_date": timezone.localdate().isoformat(),
        "receipt": receipt(),
        **changes,
    }


OPERATIONS: dict[str, Op] = {
    "core_list_territories": Op("get", "/territories", PUBLIC),
    "core_get_territory": Op("get", "/territories/{slug}", PUBLIC, lambda w: {"slug": "milano"}),
    "network_list_organisations": Op("get", "/organisations", PUBLIC, query={"territory": "milano"}),
    "network_get_organisation": Op(
        "get", "/organisations/{organisation_id}", PUBLIC, lambda w: {"organisation_id": w.organisation.pk}
    ),
    "network_submit_join_request": Op(
        "post",
        "/join-requests",
        PUBLIC,
        body=_application,
        ok=201,
        changed=lambda w: JoinRequest.objects.filter(name=w.touched["network_submit_join_request"]).exists(),
    ),
    "events_list_events": Op("get", "/events", PUBLIC, query={"territory": "milano"}),
    "events_get_event": Op("get", "/events/{event_id}", PUBLIC, event_id),
    "events_create_event": Op(
        "post",
        "/events",
        RESTRICTED,
        body=_new_event,
        ok=201,
        changed=lambda w: Event.objects.filter(slug=w.touched["events_create_event"]).exists(),
    ),
    "events_register": Op(
        "post",
        "/events/{event_id}/registrations",
        PUBLIC,
        event_id,
        body=_signup,
        ok=201,
        changed=lambda w: Registration.objects.filter(email=w.touched["events_register"]).exists(),
    ),
    "events_list_registrations": Op("get", "/events/{event_id}/registrations", RESTRICTED, event_id),
    "events_get_registration": Op("get", "/registrations/{token}", PUBLIC, lambda w: {"token": w.registration.token}),
    # The token in the path is the credential: whoever holds it may cancel.
    "events_cancel_registration": Op(
        "post",
        "/registrations/{token}/cancel",
        PUBLIC,
        lambda w: {"token": w.confirmed("events_cancel_registration").token},
        changed=lambda w: _refetch(w.touched["events_cancel_registration"]).status == Registration.Status.CANCELLED,
    ),
    "events_check_in": Op(
        "post",
        "/events/{event_id}/check-ins",
        RESTRICTED,
        event_id,
        body=lambda w: {"ticket_code": w.confirmed("events_check_in").ticket_code},
        may=DOOR_STAFF,
        changed=lambda w: _refetch(w.touched["events_check_in"]).checked_in_at is not None,
    ),
    "events_undo_check_in": Op(
        "delete",
        "/events/{event_id}/check-ins/{ticket_code}",
        RESTRICTED,
        lambda w: {"event_id": w.event.pk, "ticket_code": w.checked_in("events_undo_check_in").ticket_code},
        # Someone else's check-in: only coordinators may take it back (door staff their own fresh ones,
        # events/tests/test_staff.py); door staff get 403 here, as everyone else.
        may=COORDINATORS,
        changed=lambda w: _refetch(w.touched["events_undo_check_in"]).checked_in_at is None,
    ),
    "accounts_me": Op("get", "/me", TOKEN),
    "welfare_list_services": Op("get", "/welfare/services", PUBLIC, query={"territory": "milano"}),
    "welfare_get_service": Op("get", "/welfare/services/{service_id}", PUBLIC, lambda w: {"service_id": w.service.pk}),
    # A worker's own wallets, orders and refunds: any other token is refused, never answered empty.
    "welfare_list_wallets": Op("get", "/welfare/wallets", RESTRICTED, may=WORKER),
    "welfare_create_order": Op(
        "post",
        "/welfare/orders",
        RESTRICTED,
        body=_order,
        may=WORKER,
        ok=201,
        idempotent=True,
        changed=lambda w: Order.objects.filter(service=w.touched["welfare_create_order"]).exists(),
    ),
    "welfare_list_orders": Op("get", "/welfare/orders", RESTRICTED, may=WORKER),
    "welfare_redeem_voucher": Op(
        "post",
        "/welfare/vouchers/redeem",
        RESTRICTED,
        body=lambda w: {"code": w.new_order("welfare_redeem_voucher").code},
        may=PROVIDER_STAFF,
        changed=lambda w: _refetch(w.touched["welfare_redeem_voucher"]).status == Order.Status.REDEEMED,
    ),
    "welfare_request_refund": Op(
        "post",
        "/welfare/refunds",
        RESTRICTED,
        body=_refund,
        may=WORKER,
        ok=201,
        idempotent=True,
        multipart=True,
        changed=lambda w: RefundRequest.objects.filter(description=w.touched["welfare_request_refund"]).exists(),
    ),
    "welfare_list_refunds": Op("get", "/welfare/refunds", RESTRICTED, may=WORKER),
}


def allowed(caller: str, op: Op) -> bool:
    if op.access == PUBLIC:
        return True
    if caller in UNAUTHENTICATED:
        return False
    return op.access == TOKEN or caller in op.may


def expected(caller: str, op: Op) -> int:
    if allowed(caller, op):
        return op.ok
    return 401 if caller in UNAUTHENTICATED else 403


def published_operations(client) -> dict[str, tuple[str, str]]:
    schema = client.get(f"{API}/openapi.json").json()
    return {
        op["operationId"]: (method, path.removeprefix(API))
        for path, item in schema["paths"].items()
        for method, op in item.items()
    }


def declared_statuses(client) -> dict[str, set[int]]:
    """What the OpenAPI document says each operation may answer: the walk holds it to that."""
    schema = client.get(f"{API}/openapi.json").json()
    return {op["operationId"]: {int(status) for status in op["responses"]}
            for item in schema["paths"].values() for op in item.values()}


def test_every_published_operation_is_in_the_walk(client):
    assert published_operations(client) == {name: (op.method, op.path) for name, op in OPERATIONS.items()}


def assert_error_shape(response, where: str) -> None:
    """Every 4xx answers {code, message, fields}: a code, a message for people, messages per field."""
    assert response["Content-Type"].startswith("application/json"), where
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, where
    assert isinstance(body["code"], str) and body["code"], where
    assert isinstance(body["message"], str) and body["message"], where
    assert isinstance(body["fields"], dict), where
    assert all(isinstance(k, str) and isinstance(v, list) and v for k, v in body["fields"].items()), where


def call(client: Client, op: Op, w: ApiWorld, headers: dict, **overrides):
    params = overrides.pop("params", None)
    params = params(w) if callable(params) else params
    url = API + op.path.format(**(params or op.params(w)))
    key = overrides.pop("key", str(uuid4()) if op.idempotent else None)
    if key is not None:
        headers = {**headers, "HTTP_IDEMPOTENCY_KEY": key}
    if op.method == "get":
        return client.get(url, overrides.get("query", op.query) or {}, **headers)
    if op.method == "delete":
        return client.delete(url, **headers)
    body = overrides["body"] if "body" in overrides else (op.body(w) if op.body else None)
    body = body(w) if callable(body) else body
    if op.multipart:
        return client.post(url, body, **headers)
    payload = json.dumps(body) if body is not None else ""
    return client.post(url, payload, content_type="application/json", **headers)


@pytest.fixture
def caller_headers(client, personas, other_coordinator):
    """caller_headers(caller): sign the test client in or out, and the headers that caller sends."""

    def headers(caller: str) -> dict:
        client.logout()
        if caller == NO_TOKEN:
            return {}
        if caller == BAD_TOKEN:
            return {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.PREFIX}{'x' * 43}"}
        if caller == SESSION:
            client.force_login(personas["coordinator"], backend="django.contrib.auth.backends.ModelBackend")
            return {}
        user = other_coordinator if caller == "other_coordinator" else personas[caller]
        _token, key = ApiToken.issue(user=user, name="test")
        return {"HTTP_AUTHORIZATION": f"Bearer {key}"}

    return headers


@pytest.mark.parametrize("caller", CALLERS)
def test_api_walk(caller, client, caller_headers, api_world):
    headers = caller_headers(caller)
    declared = declared_statuses(Client())
    seen, wanted = {}, {}
    for name, op in OPERATIONS.items():
        response = call(client, op, api_world, headers)
        seen[name], wanted[name] = response.status_code, expected(caller, op)
        assert response.status_code in declared[name], f"{name} answered {response.status_code}, not in its OpenAPI"
        if 400 <= response.status_code < 500:
            assert_error_shape(response, f"{name} as {caller}: {response.content[:300]!r}")
            if response.status_code == 401:
                assert response["WWW-Authenticate"] == "Bearer", name
        elif response.status_code < 300:
            assert isinstance(response.json(), dict), name
    assert seen == wanted

    changes = {name: op for name, op in OPERATIONS.items() if op.changed}
    assert set(changes) <= set(api_world.touched), "every state-changing operation records what it acted on"
    did = {name: op.changed(api_world) for name, op in changes.items()}
    assert did == {name: allowed(caller, op) for name, op in changes.items()}


def test_me_names_the_tokens_user_and_roles(client, caller_headers, personas, firm):
    body = client.get(f"{API}/me", **caller_headers("org_staff")).json()
    assert body == {
        "email": "org_staff@example.org",
        "roles": [{"kind": "org_staff", "territory": "milano", "organisation": firm.pk}],
    }


# Refusals other than who is calling: each operation's own 4xx, in the same shape ----------------

UNKNOWN_TOKEN = str(uuid4())

# (operation, caller, overrides, status, code): a request the operation must refuse.
REFUSALS = [
    ("core_list_territories", NO_TOKEN, {"query": {"page": "0"}}, 422, "invalid_input"),
    ("core_get_territory", NO_TOKEN, {"params": {"slug": "atlantide"}}, 404, "not_found"),
    ("network_list_organisations", NO_TOKEN, {"query": {}}, 422, "invalid_input"),
    ("network_get_organisation", NO_TOKEN, {"params": {"organisation_id": 999999}}, 404, "not_found"),
    ("network_submit_join_request", NO_TOKEN, {"body": {"territory": "milano"}}, 422, "invalid_input"),
    ("events_list_events", NO_TOKEN, {"query": {"territory": "roma"}}, 422, "invalid_input"),
    ("events_get_event", NO_TOKEN, {"params": {"event_id": 999999}}, 404, "not_found"),
    ("events_create_event", "coordinator", {"body": {"territory": "milano"}}, 422, "invalid_input"),
    ("events_register", NO_TOKEN, {"body": {"first_name": "Solo il nome"}}, 422, "invalid_input"),
    ("events_list_registrations", "coordinator", {"query": {"status": "forse"}}, 422, "invalid_input"),
    ("events_list_registrations", "coordinator", {"params": {"event_id": 999999}}, 404, "not_found"),
    ("events_get_registration", NO_TOKEN, {"params": {"token": UNKNOWN_TOKEN}}, 404, "not_found"),
    ("events_cancel_registration", NO_TOKEN, {"params": {"token": UNKNOWN_TOKEN}}, 404, "not_found"),
    ("events_check_in", "coordinator", {"body": {"ticket_code": "ZZZZZZZZ"}}, 404, "ticket_not_found"),
    ("events_check_in", "org_staff", {"body": ["ZZZZZZZZ"]}, 400, "malformed_request"),
    ("events_undo_check_in", "org_staff", {"params": lambda w: {"event_id": w.event.pk, "ticket_code": "ZZZZZZZZ"}},
     404, "ticket_not_found"),
    ("events_undo_check_in", "coordinator",
     {"params": lambda w: {"event_id": w.event.pk, "ticket_code": w.registration.ticket_code}},  # not checked in
     409, "not_checked_in"),
    ("accounts_me", BAD_TOKEN, {}, 401, "unauthorized"),
    ("welfare_list_services", NO_TOKEN, {"query": {"territory": "milano", "lat": "45.48"}}, 422, "invalid_input"),
    (
        "welfare_list_services",
        NO_TOKEN,
        {"query": {"territory": "milano", "category": "gioielli"}},
        422,
        "invalid_input",
    ),
    ("welfare_get_service", NO_TOKEN, {"params": {"service_id": 999999}}, 404, "not_found"),
    ("welfare_list_wallets", "org_admin", {}, 403, "forbidden"),
    ("welfare_create_order", "worker", {"key": None}, 422, "invalid_input"),
    ("welfare_create_order", "worker", {"key": "chiave con spazi"}, 422, "invalid_input"),
    ("welfare_create_order", "worker", {"body": {"service": 999999}}, 422, "invalid_input"),
    (
        "welfare_create_order",
        "worker",
        {
            "body": lambda w: {
                "service": make_service(w.service.provider, price_cents=60000, address="Via Padova 21").pk
            }
        },
        409,
        "insufficient_credit",
    ),
    ("welfare_list_orders", "worker", {"query": {"status": "forse"}}, 422, "invalid_input"),
    ("welfare_redeem_voucher", "provider_staff", {"body": {"code": "ZZZZZZZZ"}}, 404, "not_found"),
    (
        "welfare_redeem_voucher",
        "provider_staff",
        {"body": lambda w: {"code": w.redeemed.code}},
        409,
        "already_redeemed",
    ),
    ("welfare_request_refund", "worker", {"key": None}, 422, "invalid_input"),
    ("welfare_request_refund", "worker", {"body": lambda w: _refund(w, category="f")}, 422, "invalid_input"),
    ("welfare_request_refund", "worker", {"body": lambda w: _refund(w, receipt=receipt(b"MZ"))}, 422, "invalid_input"),
    (
        "welfare_request_refund",
        "worker",
        {"body": lambda w: _refund(w, amount_cents=60000)},
        409,
        "insufficient_credit",
    ),
    ("welfare_list_refunds", "worker", {"query": {"page": "0"}}, 422, "invalid_input"),
]


def test_every_operation_has_a_refusal_below():
    assert {name for name, *_rest in REFUSALS} == set(OPERATIONS)


@pytest.mark.parametrize(
    ("name", "caller", "overrides", "status", "code"),
    REFUSALS,
    ids=[f"{name}-{status}-{code}" for name, _c, _o, status, code in REFUSALS],
)
def test_refusals_answer_the_error_shape_and_change_nothing(
    name, caller, overrides, status, code, client, caller_headers, api_world
):
    def counts():
        return (
            Event.objects.count(),
            Registration.objects.count(),
            JoinRequest.objects.count(),
            User.objects.count(),
            Transfer.objects.count(),
            Order.objects.count(),
            Order.objects.filter(status=Order.Status.REDEEMED).count(),
            RefundRequest.objects.count(),
        )

    before = counts()
    checked_in = Registration.objects.filter(checked_in_at__isnull=False).count()
    response = call(client, OPERATIONS[name], api_world, caller_headers(caller), **dict(overrides))
    assert response.status_code == status, response.content
    assert status in declared_statuses(Client())[name], f"{name} answers {status}: its OpenAPI must say so"
    assert_error_shape(response, name)
    assert response.json()["code"] == code
    assert counts() == before
    assert Registration.objects.filter(checked_in_at__isnull=False).count() == checked_in
    assert not Registration.objects.filter(status=Registration.Status.CANCELLED).exists()
