"""`Idempotency-Key` for POSTs that take capacity or move money (see ../shared/API.md).

A client that did not hear back retries with the same key and gets the first answer again instead of
a second registration or payment. Put `@idempotent` under the router's decorator:

    @router.post("/events/{int:event_id}/registrations", response={201: RegistrationOut}, ...)
    @idempotent
    def register(request, event_id: int, payload: RegistrationIn): ...

How it works, and why:
- The key is scoped per caller (the user of the token or session, else the client address) and per
  operation (method and path), so two clients, or one client on two events, never collide.
- The claim is a row inserted in its own committed transaction before the handler runs; a unique
  constraint lets exactly one of two simultaneous requests insert it. The other one waits a little
  for the first answer, then gives up with 409 `idempotency_key_in_progress`.
- It runs after authentication, throttling and schema validation: those refusals touch no key.
- Only a 2xx answer is stored and replayed. Any other answer (422 from a form, 409 from a service, a
  500) changed nothing, as every rejected request must, so the claim is dropped and a retry runs
  afresh, possibly with a corrected body.
- The same key with another body (SHA-256 of the raw bytes) answers 422 `idempotency_key_reused`.
- A process killed between its work and storing the answer leaves the claim "in progress": retries
  with that key answer 409 until `prune()` removes it. Running the handler a second time instead
  could pay twice; the client can always start over with a new key.
- Keys live at least KEEP_FOR; `manage.py prune_idempotency_keys` (daily) deletes older ones.
"""

import functools
import hashlib
import time
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.decorators import decorate_view
from ninja.utils import contribute_operation_callback

from accounts.api import ApiError

from .models import IdempotencyKey
from .ratelimit import client_address

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(hours=24)
# How long the second of two simultaneous requests waits for the first one's answer. A registration
# takes milliseconds; waiting longer would only hold a server thread.
WAIT_FOR_FIRST = 5.0
POLL_EVERY = 0.05
MAX_KEY_LENGTH = 255

OPENAPI_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": False,
    # What check_key accepts: visible ASCII, 1 to MAX_KEY_LENGTH characters.
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[!-~]+$"},
    "description": (
        "Una chiave scelta dal client (per esempio un UUID). Ripetendo la richiesta con la stessa chiave e lo "
        "stesso corpo si riceve la prima risposta (intestazione Idempotent-Replayed: true); con un corpo "
        "diverso 422 idempotency_key_reused; mentre la prima è in corso 409 idempotency_key_in_progress. "
        "Le chiavi valgono almeno 24 ore."
    ),
}


def idempotent(view):
    """Make a django-ninja POST endpoint honour `Idempotency-Key`."""

    @functools.wraps(view)
    def claim_then_run(request: HttpRequest, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return view(request, *args, **kwargs)
        check_key(key)
        outcome = _claim(request, key)
        if isinstance(outcome, HttpResponse):
            return outcome
        request._idempotency_claim = outcome
        return view(request, *args, **kwargs)

    contribute_operation_callback(claim_then_run, _document)
    # The answer is only known as JSON once ninja has serialised it, outside the view function.
    return decorate_view(_settle)(claim_then_run)


def prune(*, now=None) -> int:
    """Delete the keys older than KEEP_FOR; returns how many."""
    now = now or timezone.now()
    deleted, _per_model = IdempotencyKey.objects.filter(created_at__lt=now - KEEP_FOR).delete()
    return deleted


def _document(operation) -> None:
    operation.openapi_extra = {**(operation.openapi_extra or {})}
    operation.openapi_extra.setdefault("parameters", []).append(OPENAPI_PARAMETER)


def check_key(key: str) -> None:
    # Visible ASCII only: what every client library sends unchanged, and never a NUL for PostgreSQL.
    if not 0 < len(key) <= MAX_KEY_LENGTH or not all("!" <= c <= "~" for c in key):
        raise ApiError(
            422, "invalid_input", _("Alcuni dati non sono validi."),
            {HEADER: [_("Da 1 a %(limit)s caratteri ASCII visibili.") % {"limit": MAX_KEY_LENGTH}]},
        )


def _caller(request: HttpRequest) -> str:
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    if getattr(user, "is_authenticated", False):
        return f"user:{user.pk}"
    return f"address:{client_address(request)}"


def _claim(request: HttpRequest, key: str) -> IdempotencyKey | HttpResponse:
    """This request's claim on `key`, or the stored answer of the first request that used it."""
    # Truncated only for absurd paths (a thousand-digit id), which never reach a stored answer.
    scope = {"caller": _caller(request), "operation": f"{request.method} {request.path}"[:255], "key": key}
    request_hash = hashlib.sha256(request.body).hexdigest()
    deadline = time.monotonic() + WAIT_FOR_FIRST
    while True:
        try:
            # Its own committed transaction: the other request must see the claim while we work.
            with transaction.atomic(durable=True):
                return IdempotencyKey.objects.create(**scope, request_hash=request_hash)
        except IntegrityError:
            pass
        first = IdempotencyKey.objects.filter(**scope).first()
        if first is not None and first.request_hash != request_hash:
            raise ApiError(
                422, "idempotency_key_reused",
                _("Questa Idempotency-Key è già stata usata per una richiesta diversa: usane una nuova."),
            )
        if first is not None and first.is_complete:
            response = HttpResponse(
                first.response_body, status=first.response_status, content_type="application/json; charset=utf-8"
            )
            response["Idempotent-Replayed"] = "true"
            return response
        # Still running, or just failed and released (then the next insert is ours).
        if time.monotonic() >= deadline:
            raise ApiError(
                409, "idempotency_key_in_progress",
                _("Una richiesta con questa Idempotency-Key è ancora in corso: riprova tra poco."),
            )
        time.sleep(POLL_EVERY)


def _settle(run):
    """Store the answer to replay (2xx), or release the claim so that a retry can run."""

    @functools.wraps(run)
    def run_and_settle(request: HttpRequest, *args, **kwargs):
        try:
            response = run(request, *args, **kwargs)
        except BaseException:
            _release(request)
            raise
        claim = getattr(request, "_idempotency_claim", None)
        if claim is not None:
            if 200 <= response.status_code < 300:
                IdempotencyKey.objects.filter(pk=claim.pk).update(
                    response_status=response.status_code, response_body=response.content.decode()
                )
            else:
                _release(request)
        return response

    return run_and_settle


def _release(request: HttpRequest) -> None:
    claim = getattr(request, "_idempotency_claim", None)
    if claim is not None:
        IdempotencyKey.objects.filter(pk=claim.pk).delete()
