"""The welfare API: the public catalogue; a worker's wallets, orders and refunds; the providers' till.

Money is integer cents with `"currency": "EUR"`. Orders and refund requests move money, so they
require an `Idempotency-Key`: the key is part of the ledger transfer (unique), so the same key with
the same body returns the first order again (`Idempotent-Replayed: true`), with another body 422
`idempotency_key_reused`. Error codes besides the common ones: 409 `insufficient_credit`,
`threshold_exceeded`, `not_eligible`, `already_redeemed`, `cancelled`; 404 `not_found` also for a
voucher of another provider.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.conf import settings
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import BaseModel

from accounts.api import ApiError, BearerToken, invalid_form
from accounts.models import Role
from accounts.permissions import Perm, can, organisations_of
from core.api import SLUG_PATTERN, Page, PageParams, api_enum, paginate, territory_for_input
from core.idempotency import HEADER, OPENAPI_PARAMETER, check_key
from core.links import slug_url_maker
from network.models import Organisation

from . import services
from .forms import RefundForm
from .managers import distance_km
from .models import Category, Delivery, Order, RefundRequest, Service, Wallet, Worker

router = Router(tags=["welfare"])
CURRENCY = "EUR"
REQUIRED_KEY = {**OPENAPI_PARAMETER, "required": True}
OrderStatus = api_enum(Order.Status, "OrderStatus")
RefundStatus = api_enum(RefundRequest.Status, "RefundStatus")


def _raise(error: services.WelfareError):
    raise ApiError(error.status, error.code, error.message) from None


def _idempotency_key(request) -> str:
    key = request.headers.get(HEADER)
    if key is None:
        raise ApiError(422, "invalid_input", _("Alcuni dati non sono validi."),
                       {HEADER: [_("Obbligatoria per le richieste che muovono denaro.")]})
    check_key(key)
    return key


# --- the catalogue -----------------------------------------------------------------------------------


class ProviderOut(BaseModel):
    id: int
    name: str


# Filled from _services_out's dicts: pydantic checks a page of plain dicts several times faster than
# ninja's Schema reads the same fields off model instances, one attribute lookup at a time.
class ServiceOut(BaseModel):
    id: int
    territory: str
    title: str
    description: str
    category: Category
    category_label: str
    price_cents: int
    currency: str = CURRENCY
    delivery: Delivery
    provider: ProviderOut
    municipi: list[int]
    latitude: float | None
    longitude: float | None
    distance_km: float | None = None
    minutes_saved: int | None
    url: str


def _services_out(services: list[Service], territory, near: tuple[float, float] | None = None) -> list[dict]:
    """The catalogue's answer for services of `territory`, their providers loaded; with `near`, the distances."""
    numbers: dict[int, list[int]] = {service.pk: [] for service in services}
    # The Municipi numbers of all of them in one query of the link table (no Municipio objects).
    links = Service.municipi.through.objects.filter(service__in=numbers).values_list("service_id", "municipio__number")
    for service_id, number in links.order_by("municipio__number"):
        numbers[service_id].append(number)
    url = slug_url_maker("welfare:service", territory.slug)
    return [
        {
            "id": service.pk, "territory": territory.slug, "title": service.title, "description": service.description,
            "category": service.category, "category_label": str(Category(service.category).label),
            "price_cents": service.price_cents, "delivery": service.delivery,
            "provider": {"id": service.provider_id, "name": service.provider.name}, "municipi": numbers[service.pk],
            "latitude": service.latitude, "longitude": service.longitude,
            "distance_km": distance_km(*near, service.latitude, service.longitude) if near else None,
            "minutes_saved": service.minutes_saved, "url": settings.SITE_URL + url(service.slug),
        }
        for service in services
    ]


class CatalogueFilters(Schema):
    territory: str = Field(..., pattern=SLUG_PATTERN, max_length=60)
    q: str = Field("", max_length=200, pattern=r"^[^\x00]*$")
    category: Category | None = None
    delivery: Delivery | None = None
    municipio: int | None = Field(None, ge=1, le=99)
    lat: Decimal | None = Field(None, ge=-90, le=90)
    lon: Decimal | None = Field(None, ge=-180, le=180)


@router.get("/welfare/services", response=Page[ServiceOut], operation_id="welfare_list_services")
def list_services(request, filters: Query[CatalogueFilters], paging: Query[PageParams]):
    """The network's catalogue: `q` (Italian full text), `category`, `delivery`, `municipio`; with `lat` and
    `lon`, nearest first and `distance_km` on each service."""
    if (filters.lat is None) != (filters.lon is None):
        raise ApiError(422, "invalid_input", _("Alcuni dati non sono validi."),
                       {"lat": [_("Indica latitudine e longitudine insieme.")]})
    territory = territory_for_input(request, filters.territory)
    found = Service.objects.filter(territory=territory).published().catalogue(
        q=filters.q, category=filters.category or "", municipio=filters.municipio, delivery=filters.delivery or "",
    ).prefetch_related(Prefetch("provider", Organisation.objects.only("name"))).defer("search_text")
    if filters.lat is not None:
        found = found.nearest_to(float(filters.lat), float(filters.lon))
    else:
        found = found.order_by("title", "pk")
    page = paginate(found, paging)
    near = (float(filters.lat), float(filters.lon)) if filters.lat is not None else None
    page["items"] = _services_out(page["items"], territory, near)
    return page


@router.get("/welfare/services/{int:service_id}", response=ServiceOut, operation_id="welfare_get_service")
def get_service(request, service_id: int):
    service = get_object_or_404(Service.objects.published().select_related("provider", "territory"), pk=service_id)
    return _services_out([service], service.territory)[0]


# --- the worker's wallets and orders -----------------------------------------------------------------


def _workers(request) -> list[Worker]:
    workers = list(Worker.objects.filter(user=request.auth).select_related("organisation__territory"))
    if not workers:
        raise ApiError(403, "forbidden", _("Questo token non appartiene a un lavoratore iscritto al welfare."))
    return workers


class WalletOut(Schema):
    id: int
    plan: str
    organisation: str
    balance_cents: int
    currency: str = CURRENCY
    valid_from: date
    valid_until: date
    is_usable_today: bool
    categories: list[Category]
    fringe_threshold_cents: int
    fringe_headroom_cents: int


@router.get("/welfare/wallets", response=Page[WalletOut], auth=BearerToken(), operation_id="welfare_list_wallets")
def list_wallets(request, paging: Query[PageParams]):
    """The token's worker: each wallet's balance, what it can be used for, and the fringe-benefit headroom."""
    today = timezone.localdate()
    answer = []
    for worker in _workers(request):
        room = services.fringe_headroom(worker, year=today.year)
        for wallet in worker.wallets.select_related("plan", "account").order_by("plan__valid_until", "pk"):
            answer.append({
                "id": wallet.pk, "plan": wallet.plan.name, "organisation": worker.organisation.name,
                "balance_cents": wallet.account.balance_cents, "valid_from": wallet.plan.valid_from,
                "valid_until": wallet.plan.valid_until, "is_usable_today": wallet.plan.is_valid_on(today),
                "categories": wallet.plan.categories, "fringe_threshold_cents": room.threshold_cents,
                "fringe_headroom_cents": room.headroom_cents,
            })
    # A worker has a few wallets (one per plan and employer): built in full, then cut to the page.
    return paginate(answer, paging)


class OrderIn(Schema):
    service: int = Field(..., ge=1)
    wallet: int | None = Field(None, ge=1, description="Optional: which wallet pays; by default the one expiring first.")


class OrderOut(Schema):
    id: int
    code: str
    status: OrderStatus
    title: str
    category: Category
    amount_cents: int
    currency: str = CURRENCY
    service: int = Field(..., alias="service_id")
    wallet: int = Field(..., alias="wallet_id")
    created_at: datetime
    redeemed_at: datetime | None
    voucher_url: str

    @staticmethod
    def resolve_voucher_url(order: Order) -> str:
        return settings.SITE_URL + order.get_absolute_url()


@router.post(
    "/welfare/orders", response={201: OrderOut}, auth=BearerToken(), operation_id="welfare_create_order",
    openapi_extra={"parameters": [REQUIRED_KEY]},
)
def create_order(request, payload: OrderIn, response: HttpResponse):
    """Buy a service with the worker's credit: 201 with the voucher; 409 `insufficient_credit`,
    `threshold_exceeded` (the message tells the remaining headroom) or `not_eligible`."""
    key = _idempotency_key(request)
    # A draft, or a provider gone from the network, is "unknown" as a missing one is: GET
    # /welfare/services/{id} answers 404 for both, and the answers must not tell them apart.
    service = Service.objects.select_related("provider", "territory").filter(pk=payload.service).first()
    if service is None or not (service.is_published and service.provider.is_active):
        raise ApiError(422, "invalid_input", _("Alcuni dati non sono validi."), {"service": [_("Servizio sconosciuto.")]})
    workers = list(Worker.objects.filter(user=request.auth, organisation__territory_id=service.territory_id))
    if not workers:
        _workers(request)  # 403 for a token that is no worker's
        raise ApiError(409, "not_eligible", _("Non sei iscritto al welfare in questo territorio."))
    wallet = None
    if payload.wallet is not None:
        wallet = Wallet.objects.filter(pk=payload.wallet, worker__in=workers).select_related("worker").first()
        if wallet is None:
            raise ApiError(422, "invalid_input", _("Alcuni dati non sono validi."), {"wallet": [_("Borsellino sconosciuto.")]})
    # Someone working for two firms of the network: the employer whose plan covers the service pays.
    today = timezone.localdate()
    if wallet is not None:
        worker = wallet.worker
    elif len(workers) == 1:
        worker = workers[0]
    else:
        worker = next((w for w in workers if services.usable_wallets(w, service.category, today)), workers[0])
    try:
        order = services.place_order(worker=worker, service=service, key=key, actor=request.auth, wallet=wallet)
    except services.WelfareError as error:
        _raise(error)
    if getattr(order, "is_replay", False):
        response["Idempotent-Replayed"] = "true"
    return Status(201, order)


class OrderFilters(Schema):
    status: OrderStatus | None = None


@router.get("/welfare/orders", response=Page[OrderOut], auth=BearerToken(), operation_id="welfare_list_orders")
def list_orders(request, filters: Query[OrderFilters], paging: Query[PageParams]):
    """The token's worker's own orders, newest first."""
    orders = Order.objects.filter(worker__in=_workers(request))
    if filters.status:
        orders = orders.filter(status=filters.status)
    return paginate(orders.order_by("-created_at", "-pk"), paging)


# --- the providers' till -----------------------------------------------------------------------------


class RedeemIn(Schema):
    code: str = Field(..., min_length=4, max_length=20, pattern=r"^[A-Za-z0-9 -]+$")
    provider: int | None = Field(None, ge=1, description="Needed only when the token's user serves several providers.")


class RedeemedOut(OrderOut):
    worker_name: str

    @staticmethod
    def resolve_worker_name(order: Order) -> str:
        return str(order.worker)


@router.post("/welfare/vouchers/redeem", response=RedeemedOut, auth=BearerToken(), operation_id="welfare_redeem_voucher")
def redeem_voucher(request, payload: RedeemIn):
    """Mark a voucher used, once: 200, or 409 `already_redeemed` / `cancelled`; 404 if it is not this provider's."""
    kinds = (Role.Kind.ORG_ADMIN, Role.Kind.ORG_STAFF, Role.Kind.PROVIDER_STAFF)
    providers = [
        o for o in organisations_of(request.auth, *kinds)
        if services.is_provider(o) and can(request.auth, Perm.REDEEM_VOUCHERS, organisation=o)
    ]
    if payload.provider is not None:
        providers = [o for o in providers if o.pk == payload.provider]
    if not providers:
        raise ApiError(403, "forbidden", _("Non hai il permesso per questa operazione."))
    if len(providers) > 1:
        raise ApiError(422, "invalid_input", _("Alcuni dati non sono validi."),
                       {"provider": [_("Indica per quale fornitore stai riscattando il voucher.")]})
    try:
        order = services.redeem_voucher(code=payload.code, provider=providers[0], actor=request.auth)
    except services.WelfareError as error:
        _raise(error)
    return Order.objects.select_related("worker").get(pk=order.pk)


# --- refunds -----------------------------------------------------------------------------------------


class RefundOut(Schema):
    id: int
    status: RefundStatus
    category: Category
    amount_cents: int
    currency: str = CURRENCY
    description: str
    expense_date: date
    reason: str
    wallet: int = Field(..., alias="wallet_id")
    created_at: datetime
    decided_at: datetime | None


class RefundIn(Schema):
    wallet: int = Field(..., ge=1)
    category: Literal["f_bis", "f_ter", "d_bis"]
    amount_cents: int = Field(..., ge=1, le=100_000_000)
    description: str = Field(..., min_length=1, max_length=300, pattern=r"^[^\x00]*$")
    expense_date: date


@router.post(
    "/welfare/refunds", response={201: RefundOut}, auth=BearerToken(), operation_id="welfare_request_refund",
    openapi_extra={"parameters": [REQUIRED_KEY]},
)
def request_refund(request, payload: Form[RefundIn], receipt: File[UploadedFile], response: HttpResponse):
    """Ask a refund of an f-bis, f-ter or d-bis expense (multipart: the fields and `receipt`, PDF/JPEG/PNG ≤ 5 MB).
    The amount is held from the wallet until the employer decides."""
    key = _idempotency_key(request)
    wallets = [w for worker in _workers(request) for w in worker.wallets.select_related("plan", "account", "worker")]
    form = RefundForm(
        {"wallet": payload.wallet, "category": payload.category,
         "amount": f"{payload.amount_cents // 100},{payload.amount_cents % 100:02d}",
         "description": payload.description, "expense_date": payload.expense_date, "key": key},
        {"receipt": receipt}, wallets=wallets,
    )
    if not form.is_valid():
        raise invalid_form(form)
    wallet = next(w for w in wallets if w.pk == form.cleaned_data["wallet"])
    try:
        refund = services.request_refund(
            worker=wallet.worker, wallet=wallet, category=payload.category, amount_cents=payload.amount_cents,
            description=payload.description, expense_date=payload.expense_date, receipt=form.cleaned_data["receipt"],
            key=key, actor=request.auth,
        )
    except services.WelfareError as error:
        _raise(error)
    if getattr(refund, "is_replay", False):
        response["Idempotent-Replayed"] = "true"
    return Status(201, refund)


@router.get("/welfare/refunds", response=Page[RefundOut], auth=BearerToken(), operation_id="welfare_list_refunds")
def list_refunds(request, paging: Query[PageParams]):
    """The token's worker's refund requests, with each state and the reason of a rejection."""
    return paginate(RefundRequest.objects.filter(worker__in=_workers(request)).order_by("-created_at", "-pk"), paging)
