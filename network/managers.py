import re

from django.contrib.postgres.search import SearchVector
from django.db import connection, models
from django.db.models.expressions import Expression
from django.utils import timezone

# The directory's Italian full-text search. On PostgreSQL it reads the stored tsvector column
# `search_document` (migration 0003); SQLite, used only for development, matches every word instead.
SEARCH_CONFIG = "italian"
WORD = re.compile(r"\w+")
MAX_SEARCH_WORDS = 8


def search_vector() -> SearchVector:
    """The expression migration 0002 indexed (kept for that migration)."""
    return SearchVector("search_text", config=SEARCH_CONFIG)


class DocumentMatches(Expression):
    """`search_document @@ to_tsquery(...)` on the organisation table, whatever its alias.

    The column is unknown to Django, so the SQL is written by hand; it takes the table's alias from
    the query being compiled, because inside a subquery (the directory reads one page of ids that
    way) the table is `U0`, and the table's own name would point at the outer query.
    """

    output_field = models.BooleanField()
    conditional = True

    def __init__(self, tsquery: str):
        super().__init__()
        self.tsquery = tsquery

    def as_sql(self, compiler, connection):
        table = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"{table}.search_document @@ to_tsquery(%s::regconfig, %s)", (SEARCH_CONFIG, self.tsquery)


class OrganisationQuerySet(models.QuerySet):
    def in_territory(self, territory) -> "OrganisationQuerySet":
        return self.filter(territory=territory)

    def active(self) -> "OrganisationQuerySet":
        return self.filter(is_active=True)

    def search(self, text: str) -> "OrganisationQuerySet":
        words = WORD.findall(text.lower())[:MAX_SEARCH_WORDS]
        if not words:
            return self
        if connection.vendor == "postgresql":
            # Every word as a stemmed prefix ("coop" and "cooperative" both find "Cooperativa"),
            # through the GIN index. Only word characters reach the raw query: no tsquery syntax.
            return self.filter(DocumentMatches(" & ".join(f"{word}:*" for word in words)))
        matches = self
        for word in words:
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
