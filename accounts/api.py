"""API authentication (bearer tokens), the error shape every app answers with, and /me."""

import logging
from datetime import timedelta

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, SuspiciousOperation
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from .models import ApiToken
from .permissions import roles_of

logger = logging.getLogger(__name__)

# Writing last_used_at on every call would turn each read into a write; a minute's precision is enough.
LAST_USED_PRECISION = timedelta(minutes=1)


class BearerToken(HttpBearer):
    """`Authorization: Bearer mire_…`: the token's user, if the token is active."""

    def authenticate(self, request: HttpRequest, token: str):
        try:
            api_token = ApiToken.objects.active().select_related("user").get(key_hash=ApiToken.hash_key(token))
        except ApiToken.DoesNotExist:
            return None
        now = timezone.now()
        stale = now - LAST_USED_PRECISION
        if api_token.last_used_at is None or api_token.last_used_at < stale:
            # Conditional, so concurrent calls with the same token write once.
            ApiToken.objects.filter(pk=api_token.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)
            ).update(last_used_at=now)
        return api_token.user


class JsonObjectParser(Parser):
    """Bodies must be JSON objects: ninja would read `[1]` or `"x"` as an object with every field missing."""

    def parse_body(self, request: HttpRequest):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("The body is not a JSON object.")  # ninja answers 400.
        return data


class ApiError(Exception):
    """Raise from an endpoint to answer {code, message, fields} with `status`."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.fields = status, code, message, fields or {}


def invalid_form(form) -> ApiError:
    """The 422 for a Django form that did not validate; its messages keep the request's language."""
    fields = {name: [str(message) for message in messages] for name, messages in form.errors.items()}
    return ApiError(422, "invalid_input", _("Alcuni dati non sono validi."), fields)


HTTP_ERROR_CODES = {
    400: "malformed_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "rate_limited",
}


def http_error_message(status: int) -> str:
    messages = {
        400: _("La richiesta non è leggibile: il corpo deve essere JSON valido."),
        401: _("Serve un token valido: Authorization: Bearer <token>."),
        403: _("Non hai il permesso per questa operazione."),
        404: _("Risorsa non trovata."),
        405: _("Questo indirizzo non accetta questo metodo: quelli ammessi sono nell'intestazione Allow."),
        429: _("Troppe richieste: riprova più tardi."),
    }
    return messages.get(status, _("Richiesta non accettata."))


def _problem(error: dict) -> str:
    """A person's wording of a pydantic error; pydantic's own messages are English only."""
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == "missing":
        return _("Campo obbligatorio.")
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _("Deve essere un numero intero.")
    if kind in {"bool_parsing", "bool_type"}:
        return _("Deve essere vero o falso.")
    if kind == "string_type":
        return _("Deve essere un testo.")
    if kind == "greater_than_equal":
        return _("Deve essere almeno %(limit)s.") % {"limit": ctx.get("ge")}
    if kind == "less_than_equal":
        return _("Deve essere al massimo %(limit)s.") % {"limit": ctx.get("le")}
    if kind == "string_too_long":
        return _("Al massimo %(limit)s caratteri.") % {"limit": ctx.get("max_length")}
    if kind == "enum":
        return _("Valori ammessi: %(values)s.") % {"values": ctx.get("expected")}
    if kind == "string_pattern_mismatch":
        return _("Formato non valido.")
    return _("Valore non valido.")


def _field_name(loc: list) -> str | None:
    # ninja prefixes the source ("query", "path", "body") and, for a body, the schema argument's name.
    rest = loc[2:] if loc[0] == "body" else loc[1:]
    return ".".join(str(part) for part in rest) or None


ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["code", "message", "fields"],
    "properties": {
        "code": {"type": "string", "description": "Stabile, snake_case: la causa per i programmi."},
        "message": {"type": "string", "description": "Per le persone, nella lingua di Accept-Language."},
        "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                   "description": "Per i dati non validi: i problemi di ogni campo."},
    },
}
ERROR_DESCRIPTIONS = {
    400: "malformed_request: il corpo non è JSON valido.",
    401: "unauthorized: manca il token o non è valido.",
    403: "forbidden: il token non ha il permesso.",
    404: "not_found: non esiste, o chi chiama non può vederlo.",
    409: "Conflitto con lo stato attuale; `code` dice quale (vedi la descrizione dell'operazione).",
    422: "invalid_input (o idempotency_key_reused): nulla è stato cambiato; `fields` dice cosa correggere.",
    429: "rate_limited: troppe richieste da questo indirizzo; vedi Retry-After.",
}
# The writes whose refusals include a conflict with the current state (full, already_registered,
# insufficient_credit, not_checked_in…), and the public ones limited per client address.
CONFLICTING_OPERATIONS = {
    "events_create_event", "events_register", "events_cancel_registration", "events_check_in", "events_undo_check_in",
    "welfare_create_order", "welfare_redeem_voucher", "welfare_request_refund",
}
RATE_LIMITED_OPERATIONS = {"network_submit_join_request", "events_register"}
ANY_TOKEN_OPERATIONS = {"accounts_me"}  # any valid token may: never 403
BODY_LOOKUP_OPERATIONS = {"welfare_redeem_voucher"}  # 404 for an object named in the body (a voucher code)


def document_errors(schema: dict) -> dict:
    """Declare in the OpenAPI document the error answers each operation can give, all {code, message, fields}."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            statuses = set()
            # Path segments are typed by the route ({int:…}, {uuid:…}): a malformed one is a 404.
            if operation.get("requestBody") or any(p["in"] == "query" for p in operation.get("parameters", [])):
                statuses.add(422)
            if operation.get("requestBody"):
                statuses.add(400)
            if "{" in path or operation.get("operationId") in BODY_LOOKUP_OPERATIONS:
                statuses.add(404)
            if operation.get("security"):
                statuses.add(401)
                if operation.get("operationId") not in ANY_TOKEN_OPERATIONS:
                    statuses.add(403)
            if operation.get("operationId") in CONFLICTING_OPERATIONS:
                statuses.add(409)
            if operation.get("operationId") in RATE_LIMITED_OPERATIONS:
                statuses.add(429)
            for status in sorted(statuses):
                operation["responses"].setdefault(status, {
                    "description": ERROR_DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                })
    return schema


def install_error_handlers(api: NinjaAPI) -> None:
    """Make every error of `api` answer {code, message, fields} in the request's language."""

    def respond(request, status: int, code: str, message: str, fields=None) -> HttpResponse:
        return api.create_response(request, {"code": code, "message": message, "fields": fields or {}}, status=status)

    @api.exception_handler(ApiError)
    def api_error(request, exc: ApiError):
        return respond(request, exc.status, exc.code, exc.message, exc.fields)

    @api.exception_handler(ValidationError)
    def validation_error(request, exc: ValidationError):
        fields: dict[str, list[str]] = {}
        for error in exc.errors:
            name = _field_name(list(error["loc"]))
            if name is None:  # The body itself is missing.
                return respond(request, 400, "malformed_request", http_error_message(400))
            fields.setdefault(name, []).append(_problem(error))
        return respond(request, 422, "invalid_input", _("Alcuni dati non sono validi."), fields)

    @api.exception_handler(HttpError)
    def http_error(request, exc: HttpError):
        # ninja adds Retry-After to a 429 itself.
        return respond(
            request,
            exc.status_code,
            HTTP_ERROR_CODES.get(exc.status_code, "error"),
            http_error_message(exc.status_code),
        )

    @api.exception_handler(AuthenticationError)
    def unauthorized(request, exc):
        response = respond(request, 401, "unauthorized", http_error_message(401))
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(Http404)
    @api.exception_handler(ObjectDoesNotExist)
    def not_found(request, exc):
        return respond(request, 404, "not_found", http_error_message(404))

    @api.exception_handler(SuspiciousOperation)
    @api.exception_handler(MultiPartParserError)
    def suspicious(request, exc):
        # Django answers these 400 too; the usual ones here are a body over DATA_UPLOAD_MAX_MEMORY_SIZE
        # and a multipart body without its boundary (an endpoint that takes form data, e.g. a receipt).
        return respond(request, 400, "malformed_request", http_error_message(400))

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return respond(request, 403, "forbidden", http_error_message(403))

    @api.exception_handler(Exception)
    def server_error(request, exc):
        logger.exception("API error on %s %s", request.method, request.path)
        return respond(request, 500, "server_error", _("Errore interno: è stato registrato e lo esamineremo."))


router = Router(tags=["accounts"])


class RoleOut(Schema):
    kind: str
    territory: str
    organisation: int | None


class MeOut(Schema):
    email: str
    roles: list[RoleOut]


@router.get("/me", response=MeOut, auth=BearerToken(), operation_id="accounts_me")
def me(request):
    """The token's user and the roles it acts with."""
    user = request.auth
    roles = [{"kind": r.kind, "territory": r.territory.slug, "organisation": r.organisation_id} for r in roles_of(user)]
    return {"email": user.email, "roles": roles}
