"""The network's public API: the organisation directory and applications to join."""

from datetime import date, datetime

from django.conf import settings
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from accounts.api import invalid_form
from core.api import SLUG_PATTERN, Page, PageParams, PublicWriteThrottle, paginate, territory_for_input
from core.models import Municipio

from . import services
from .forms import JoinRequestForm
from .models import JoinRequest, NetworkRole, Organisation, OrganisationKind, SizeClass

# Applications are rare; this only stops a client from flooding the coordinators' queue.
JOIN_REQUEST_RATE = "10/h"
MUNICIPIO_NUMBER = Field(None, ge=1, le=32767, description="Il numero del Municipio (vedi /territories/{slug}).")

router = Router(tags=["network"])


class OrganisationFilters(Schema):
    territory: str = Field(..., pattern=SLUG_PATTERN, max_length=60)
    kind: OrganisationKind | None = None
    role: NetworkRole | None = None
    municipio: int | None = MUNICIPIO_NUMBER
    # PostgreSQL refuses NUL in a string parameter.
    q: str = Field("", max_length=200, pattern=r"^[^\x00]*$")


class OrganisationOut(Schema):
    id: int
    name: str
    slug: str
    territory: str
    kind: str
    kind_label: str
    size_class: str
    network_role: str
    network_role_label: str
    description: str
    contribution: str
    address: str
    postal_code: str
    city: str
    municipio: int | None
    latitude: float | None
    longitude: float | None
    website: str
    email: str
    phone: str
    joined_on: date
    url: str

    @staticmethod
    def resolve_territory(org: Organisation) -> str:
        return org.territory.slug

    @staticmethod
    def resolve_kind_label(org: Organisation) -> str:
        return str(org.get_kind_display())

    @staticmethod
    def resolve_network_role_label(org: Organisation) -> str:
        return str(org.get_network_role_display())

    @staticmethod
    def resolve_municipio(org: Organisation) -> int | None:
        return org.municipio.number if org.municipio else None

    @staticmethod
    def resolve_url(org: Organisation) -> str:
        return settings.SITE_URL + org.get_absolute_url()


def _public_organisations():
    return Organisation.objects.active().filter(territory__is_active=True).select_related("territory", "municipio")


@router.get("/organisations", response=Page[OrganisationOut], operation_id="network_list_organisations")
def list_organisations(request, filters: Query[OrganisationFilters], paging: Query[PageParams]):
    """The directory of one territory's network, by name; `q` searches name, description and place."""
    territory = territory_for_input(request, filters.territory)
    organisations = _public_organisations().in_territory(territory).directory(
        q=filters.q, kind=filters.kind or "", role=filters.role or "", municipio=filters.municipio
    )
    return paginate(organisations.order_by("name", "pk"), paging)


@router.get("/organisations/{int:organisation_id}", response=OrganisationOut, operation_id="network_get_organisation")
def get_organisation(request, organisation_id: int):
    """One active organisation of any territory."""
    return get_object_or_404(_public_organisations(), pk=organisation_id)


class JoinRequestIn(Schema):
    territory: str = Field(..., pattern=SLUG_PATTERN, max_length=60)
    name: str
    kind: str = Field(..., description=" | ".join(OrganisationKind.values))
    size_class: str = Field("", description="Solo per le imprese: " + " | ".join(SizeClass.values))
    requested_role: str = Field(
        ..., description=" | ".join([NetworkRole.MEMBER_FIRM, NetworkRole.PARTNER, NetworkRole.PROVIDER])
    )
    tax_code: str
    vat_number: str = ""
    address: str = ""
    postal_code: str = ""
    city: str = ""
    municipio: int | None = MUNICIPIO_NUMBER
    website: str = ""
    contact_name: str
    email: str
    phone: str = ""
    motivation: str = ""
    privacy_acknowledged: bool = Field(..., description="Deve essere true: il richiedente ha letto l'informativa.")


class JoinRequestOut(Schema):
    id: int
    status: str
    created_at: datetime

    @staticmethod
    def resolve_created_at(jr: JoinRequest) -> datetime:
        return timezone.localtime(jr.created_at)


@router.post(
    "/join-requests",
    response={201: JoinRequestOut},
    operation_id="network_submit_join_request",
    throttle=PublicWriteThrottle(JOIN_REQUEST_RATE, scope="network_join_request"),
)
def submit_join_request(request, payload: JoinRequestIn):
    """Apply to join a territory's network; the coordinators review it. Same rules as the web form."""
    territory = territory_for_input(request, payload.territory)
    municipio = None
    if payload.municipio is not None:
        municipio = Municipio.objects.filter(territory=territory, number=payload.municipio).first()
    data = payload.dict(exclude={"territory", "municipio", "privacy_acknowledged"})
    form = JoinRequestForm(
        {
            **data,
            "municipio": municipio.pk if municipio else "",
            "privacy_acknowledged": "on" if payload.privacy_acknowledged else "",
        },
        territory=territory,
    )
    form.is_valid()
    if payload.municipio is not None and municipio is None:
        form.add_error("municipio", _("Questo territorio non ha un Municipio con questo numero."))
    if form.errors:
        raise invalid_form(form)
    cleaned = {k: v for k, v in form.cleaned_data.items() if k != "privacy_acknowledged"}
    actor = request.user if request.user.is_authenticated else None
    try:
        return Status(201, services.submit_join_request(territory=territory, data=cleaned, actor=actor))
    except services.JoinRequestPending:
        # Sent twice at once: answered as the second of two requests sent one after the other is.
        form.add_error("tax_code", _("Per questa organizzazione c'è già una richiesta di adesione in esame."))
        raise invalid_form(form) from None
