from django.contrib.postgres.search import SearchVector
from django.db import models
from django.utils import timezone

from core.search import SEARCH_CONFIG, search


def search_vector() -> SearchVector:
    """The expression migration 0002 indexed (kept for that migration)."""
    return SearchVector("search_text", config=SEARCH_CONFIG)


class OrganisationQuerySet(models.QuerySet):
    def in_territory(self, territory) -> "OrganisationQuerySet":
        return self.filter(territory=territory)

    def active(self) -> "OrganisationQuerySet":
        return self.filter(is_active=True)

    def search(self, text: str) -> "OrganisationQuerySet":
        return search(self, text)

    def directory(self, *, q: str = "", kind: str = "", role: str = "", municipio: int | None = None):
        """The public directory's filters, shared by the web page and the API."""
        matches = self.search(q)
        if kind:
            matches = matches.filter(kind=kind)
        if role:
            matches = matches.filter(network_role=role)
        if municipio:
            matches = matches.filter(municipio__number=municipio)
        return matches


class ArticleQuerySet(models.QuerySet):
    def published(self) -> "ArticleQuerySet":
        return self.filter(published_at__isnull=False, published_at__lte=timezone.now())
