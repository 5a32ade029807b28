"""The JSON API, /api/v1: one django-ninja router per app (see ../shared/API.md)."""

from ninja import NinjaAPI

from accounts.api import JsonObjectParser, document_errors, install_error_handlers
from accounts.api import router as accounts_router
from core.api import router as core_router
from events.api import router as events_router
from network.api import router as network_router
from welfare.api import router as welfare_router


class MireAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        # ninja lists only each operation's success; integrators need the errors too.
        return document_errors(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


api = MireAPI(
    title="MIRE API",
    version="1",
    description="API della piattaforma MIRE: territori, rete, adesioni, eventi, welfare. Errori: {code, message, fields}.",
    urls_namespace="api",
    parser=JsonObjectParser(),
)
install_error_handlers(api)
# An address no router has, or a method a route lacks, is answered in the same JSON shape by
# accounts.middleware.ApiErrorsAsJsonMiddleware.
api.add_router("", core_router)
api.add_router("", network_router)
api.add_router("", events_router)
api.add_router("", welfare_router)
api.add_router("", accounts_router)
