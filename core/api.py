"""Territories, and what every app's API shares: the list shape {items, count, page, pages}, write limits.

The API's limits use django-ninja's throttles (they answer 429 with Retry-After); HTML forms use
`core.ratelimit.retry_after`. Both count per `core.ratelimit.client_address` in the shared cache.
"""

from enum import StrEnum
from math import ceil
from typing import Annotated, Generic, TypeVar

from django.conf import settings
from django.db.models import QuerySet, TextChoices
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.throttling import AnonRateThrottle

from .models import Territory
from .ratelimit import client_address
from .territories import active_territory

SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"
MAX_PAGE_SIZE = 200
# A row id in a body: what a 64-bit key column holds. Larger numbers are bad input (422), not an
# OverflowError from the database driver.
RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]

T = TypeVar("T")


def api_enum(choices: type[TextChoices], name: str) -> type[StrEnum]:
    """Model choices as an enum of their own name in the OpenAPI document. Django's are all called
    after their field (Order.Status, RefundRequest.Status…), and the document kept one schema per
    name: every status field and filter listed the refunds' values."""
    return StrEnum(name, {member.name: member.value for member in choices})


class PageParams(Schema):
    page: int = Field(1, ge=1)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)


class Page(Schema, Generic[T]):
    items: list[T]
    count: int
    page: int
    pages: int


def paginate(queryset: QuerySet | list, params: PageParams) -> dict:
    """One page of an ordered queryset (or of a list built in Python). A page past the last is empty."""
    count = len(queryset) if isinstance(queryset, list) else queryset.count()
    pages = ceil(count / params.page_size)
    items = []
    if params.page <= pages:
        start = (params.page - 1) * params.page_size
        items = list(queryset[start : start + params.page_size])
    return {"items": items, "count": count, "page": params.page, "pages": pages}


class PublicWriteThrottle(AnonRateThrottle):
    """Limits a public write per client address; RATELIMIT_ENABLED=false lifts it (benchmarks, load tests).

    Each endpoint names its own `scope`: ninja keys the counter by scope and address, so with a shared
    scope registrations would use up the join-request allowance and the other way round.
    """

    def __init__(self, rate: str, *, scope: str):
        self.scope = scope
        super().__init__(rate)

    def allow_request(self, request: HttpRequest) -> bool:
        return not settings.RATELIMIT_ENABLED or super().allow_request(request)

    def get_ident(self, request: HttpRequest) -> str | None:
        return client_address(request) or None


def territory_for_input(request, slug: str) -> Territory:
    """An active territory named in a request's input; a wrong name is bad input (422), not a 404.

    From the shared cache, as every page reads its territory (core/territories.py)."""
    from accounts.api import ApiError

    try:
        return active_territory(request, slug)
    except Http404:
        raise ApiError(
            422, "invalid_input", _("Alcuni dati non sono validi."), {"territory": [_("Territorio sconosciuto.")]}
        ) from None


router = Router(tags=["core"])


class MunicipioOut(Schema):
    number: int
    name: str


class TerritoryOut(Schema):
    slug: str
    name: str
    region: str
    network_name: str
    network_motto: str
    description: str
    description_en: str = Field(description="The description in English; empty when there is none.")
    center_latitude: float
    center_longitude: float
    contact_email: str
    data_controller: str = Field(description="Who controls the personal data the network's platform holds (GDPR art. 13).")
    dpo_email: str = Field(description="The data protection officer's address; empty when not given.")
    url: str

    @staticmethod
    def resolve_url(territory: Territory) -> str:
        return settings.SITE_URL + territory.get_absolute_url()


class TerritoryDetailOut(TerritoryOut):
    municipi: list[MunicipioOut]


@router.get("/territories", response=Page[TerritoryOut], operation_id="core_list_territories")
def list_territories(request, paging: Query[PageParams]):
    """The active territories, by name."""
    return paginate(Territory.objects.filter(is_active=True).order_by("name", "pk"), paging)


@router.get("/territories/{slug:slug}", response=TerritoryDetailOut, operation_id="core_get_territory")
def get_territory(request, slug: str):
    """One active territory with its Municipi (the numbers the organisation filter takes)."""
    return get_object_or_404(Territory.objects.prefetch_related("municipi"), slug=slug, is_active=True)
