from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection, models
from django.utils import timezone

# The directory's Italian full-text search. On PostgreSQL it uses this expression, which a GIN index
# (migration 0002) covers; SQLite, used only for development, falls back to matching every word.
SEARCH_CONFIG = "italian"


def search_vector() -> SearchVector:
    return SearchVector("search_text", config=SEARCH_CONFIG)


class OrganisationQuerySet(models.QuerySet):
    def in_territory(self, territory) -> "OrganisationQuerySet":
        return self.filter(territory=territory)

    def active(self) -> "OrganisationQuerySet":
        return self.filter(is_active=True)

    def search(self, text: str) -> "OrganisationQuerySet":
        text = " ".join(text.split())[:200]
        if not text:
            return self
        if connection.vendor == "postgresql":
            # Stemmed Italian words ("cooperative" finds "cooperativa"), or a piece of the name.
            query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
            return self.annotate(_document=search_vector()).filter(
                models.Q(_document=query) | models.Q(name__icontains=text)
            )
        matches = self
        for word in text.lower().split():
            matches = matches.filter(search_text__contains=word)
        return matches


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
