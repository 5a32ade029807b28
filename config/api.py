"""The JSON API, /api/v1: one django-ninja router per app (see ../shared/API.md)."""

from django.http import Http404
from ninja import NinjaAPI, Router

from accounts.api import JsonObjectParser, install_error_handlers
from accounts.api import router as accounts_router
from core.api import router as core_router
from events.api import router as events_router
from network.api import router as network_router
from welfare.api import router as welfare_router

api = NinjaAPI(
    title="MIRE API",
    version="1",
    description="API della piattaforma MIRE: territori, rete, adesioni, eventi, welfare. Errori: {code, message, fields}.",
    urls_namespace="api",
    parser=JsonObjectParser(),
)
install_error_handlers(api)
api.add_router("", core_router)
api.add_router("", network_router)
api.add_router("", events_router)
api.add_router("", welfare_router)
api.add_router("", accounts_router)

# Added last so that it matches only what no router does: without it, a mistyped API address would
# fall through to the HTML site's 404 page.
unknown = Router()


@unknown.api_operation(["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", include_in_schema=False)
def unknown_path(request, rest: str):
    raise Http404


api.add_router("", unknown)
