"""`Idempotency-Key` on any endpoint: replays, reuse, failures, scopes, races, pruning.

A small API of its own exercises the decorator, so the rules are pinned down independently of the
events that use it first (events/tests/test_api.py covers registrations).
"""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.urls import path
from django.utils import timezone
from ninja import NinjaAPI, Router, Schema, Status

from accounts.api import ApiError, BearerToken, JsonObjectParser, install_error_handlers
from accounts.models import ApiToken, User
from core import idempotency
from core.idempotency import idempotent
from core.models import AuditLog, IdempotencyKey

api = NinjaAPI(urls_namespace="idempotency-test", parser=JsonObjectParser(), docs_url=None)
install_error_handlers(api)
router = Router()


class ThingIn(Schema):
    name: str
    sleep: float = 0
    outcome: str = "created"


class ThingOut(Schema):
    id: int
    name: str


def _make(request, payload: ThingIn):
    time.sleep(payload.sleep)  # widens the window in which a second request can arrive
    if payload.outcome == "crash":
        raise RuntimeError("the handler failed")
    if payload.outcome == "conflict":
        raise ApiError(409, "full", "Pieno.")
    log = AuditLog.objects.create(action="thing.created", object_type="test.thing", object_repr=payload.name)
    return Status(201, {"id": log.pk, "name": payload.name})


@router.post("/things/{int:n}", response={201: ThingOut})
@idempotent
def make_thing(request, n: int, payload: ThingIn):
    return _make(request, payload)


@router.post("/private-things", response={201: ThingOut}, auth=BearerToken())
@idempotent
def make_private_thing(request, payload: ThingIn):
    return _make(request, payload)


api.add_router("", router)
urlpatterns = [path("api/", api.urls)]

pytestmark = pytest.mark.urls(__name__)


def send(client, body: dict, key: str | None = "chiave", path: str = "/api/things/1", **headers):
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def executions() -> int:
    return AuditLog.objects.filter(action="thing.created").count()


@pytest.mark.django_db
def test_without_a_key_every_request_runs(client):
    send(client, {"name": "a"}, key=None)
    send(client, {"name": "a"}, key=None)

    assert executions() == 2
    assert IdempotencyKey.objects.count() == 0


@pytest.mark.django_db
def test_the_same_key_and_body_replay_the_first_answer_byte_for_byte(client):
    first = send(client, {"name": "a"})
    again = send(client, {"name": "a"})

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again["Content-Type"].startswith("application/json")
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert executions() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused_and_runs_nothing(client):
    send(client, {"name": "a"})

    response = send(client, {"name": "b"})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert executions() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("outcome", ["crash", "conflict"])
def test_a_failed_or_refused_request_releases_its_key_for_a_retry(client, outcome):
    failed = send(client, {"name": "a", "outcome": outcome})
    retried = send(client, {"name": "a"})

    assert failed.status_code in {500, 409}
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried
    assert executions() == 1
    assert IdempotencyKey.objects.get().response_status == 201


@pytest.mark.django_db
def test_a_key_means_something_for_one_operation_only(client):
    assert send(client, {"name": "a"}, path="/api/things/1").status_code == 201
    assert send(client, {"name": "a"}, path="/api/things/2").status_code == 201

    assert executions() == 2


@pytest.mark.django_db
def test_keys_of_token_users_are_their_own(client):
    anna = User.objects.create_user(email="anna@example.org", password="x")
    bruno = User.objects.create_user(email="bruno@example.org", password="x")
    anna_key, bruno_key = ApiToken.issue(user=anna, name="a")[1], ApiToken.issue(user=bruno, name="b")[1]
    anna_other_key = ApiToken.issue(user=anna, name="a2")[1]

    def as_user(key, **headers):
        return send(client, {"name": "a"}, path="/api/private-things", HTTP_AUTHORIZATION=f"Bearer {key}", **headers)

    assert as_user(anna_key).status_code == 201
    assert as_user(bruno_key).status_code == 201
    # The same user, with another token and from another address, is still the same caller.
    assert as_user(anna_other_key, REMOTE_ADDR="192.0.2.7")["Idempotent-Replayed"] == "true"
    assert executions() == 2


@pytest.mark.django_db
def test_refusals_before_the_handler_touch_no_key(client):
    unauthorized = send(client, {"name": "a"}, path="/api/private-things")
    malformed = send(client, {"nome": "a"})

    assert (unauthorized.status_code, malformed.status_code) == (401, 422)
    assert IdempotencyKey.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "città", "due parole"])
def test_unusable_keys_are_refused(client, key):
    response = send(client, {"name": "a"}, key=key)

    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["Idempotency-Key"]
    assert executions() == 0


def _at_once(bodies: list[dict], key: str = "insieme") -> list:
    barrier = threading.Barrier(len(bodies))

    def post(body):
        try:
            barrier.wait(timeout=30)
            return send(Client(), body, key=key)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(post, bodies))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_requests_with_the_same_key_at_once_run_once_and_all_get_its_answer():
    responses = _at_once([{"name": "a", "sleep": 0.3}] * 6)

    assert [r.status_code for r in responses] == [201] * 6
    assert len({r.content for r in responses}) == 1
    assert sum(r.has_header("Idempotent-Replayed") for r in responses) == 5
    assert executions() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_request_still_running_makes_the_next_one_answer_409_after_a_short_wait(monkeypatch):
    monkeypatch.setattr(idempotency, "WAIT_FOR_FIRST", 0.2)

    responses = _at_once([{"name": "a", "sleep": 1.5}] * 3)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"idempotency_key_in_progress"}
    assert executions() == 1
    assert send(Client(), {"name": "a", "sleep": 1.5}, key="insieme")["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_prune_removes_keys_older_than_a_day_only(client):
    send(client, {"name": "old"}, key="vecchia")
    send(client, {"name": "new"}, key="nuova")
    IdempotencyKey.objects.filter(key="vecchia").update(created_at=timezone.now() - timedelta(hours=25))
    IdempotencyKey.objects.filter(key="nuova").update(created_at=timezone.now() - timedelta(hours=23))
    out = StringIO()

    call_command("prune_idempotency_keys", stdout=out)

    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["nuova"]
    assert out.getvalue().startswith("1 ")
    assert send(client, {"name": "new"}, key="nuova")["Idempotent-Replayed"] == "true"
    assert send(client, {"name": "old"}, key="vecchia").status_code == 201  # a fresh key again
    assert executions() == 3
