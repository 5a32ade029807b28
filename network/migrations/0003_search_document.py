"""A stored tsvector for the directory search, on PostgreSQL only.

Migration 0002 indexed the expression to_tsvector(search_text); but on a table of a few thousand
rows the planner prefers a sequential scan and computes to_tsvector for every row (about 140 ms at
3,500 organisations). A generated column stores the vector once per write; the search then reads it
(index or scan, both around a millisecond). Django does not know the column: PostgreSQL fills it,
and `OrganisationQuerySet.search` refers to it in SQL.
"""

from django.db import migrations

FORWARD = """
ALTER TABLE network_organisation ADD COLUMN search_document tsvector
    GENERATED ALWAYS AS (to_tsvector('italian'::regconfig, COALESCE(search_text, ''))) STORED;
CREATE INDEX organisation_search_document ON network_organisation USING gin (search_document);
DROP INDEX IF EXISTS organisation_search_it;
"""

BACKWARD = """
ALTER TABLE network_organisation DROP COLUMN IF EXISTS search_document;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("network", "0002_search_index")]
    operations = [migrations.RunPython(forward, backward)]
