"""Italian full-text search over a model's stored `search_text`, shared by the directory and the catalogue.

On PostgreSQL each searchable table has a stored, generated tsvector column `search_document`
(`to_tsvector('italian', search_text)`, GIN-indexed; network migration 0003, welfare migration 0002)
and every word of the query must match as a stemmed prefix ("coop" finds "Cooperativa"). SQLite,
for development only, matches every word as a substring of `search_text` instead.
"""

import re
import unicodedata

from django.db import connection, models
from django.db.models.expressions import Expression

SEARCH_CONFIG = "italian"
WORD = re.compile(r"\w+")
MAX_SEARCH_WORDS = 8


class DocumentMatches(Expression):
    """`search_document @@ to_tsquery(...)` on the queried table, whatever its alias.

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


def fold(text: str) -> str:
    """Lower case without accents: "Università" and "universita" are searched alike, as people type
    on phones and keyboards without an accented letter. Stored texts and queries both go through it."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def search(queryset: models.QuerySet, text: str) -> models.QuerySet:
    """The rows of `queryset` whose search text has every word of `text` (at most MAX_SEARCH_WORDS)."""
    words = WORD.findall(fold(text))[:MAX_SEARCH_WORDS]
    if not words:
        return queryset
    if connection.vendor == "postgresql":
        # Only word characters reach the raw query: no tsquery syntax can be injected.
        return queryset.filter(DocumentMatches(" & ".join(f"{word}:*" for word in words)))
    for word in words:
        queryset = queryset.filter(search_text__contains=word)
    return queryset


def refold_search_text(model) -> None:
    """Fold the stored search_text of every row of `model` (a migration's historical model too)."""
    for pk, text in model.objects.values_list("pk", "search_text").iterator(chunk_size=2000):
        if fold(text) != text:
            model.objects.filter(pk=pk).update(search_text=fold(text))


class SearchTextMixin(models.Model):
    """Keeps `search_text` in step with every save; the model says what goes in it with
    `build_search_text()`, which returns the text to search (stored folded: see fold())."""

    search_text = models.TextField(editable=False, default="")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.search_text = fold(self.build_search_text())
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)
