"""The JSON API, /api/v1: one django-ninja router per app (see ../shared/API.md)."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="MIRE API",
    version="1",
    description="API della piattaforma MIRE: territori, rete, adesioni. Errori: {code, message, fields}.",
    urls_namespace="api",
)
