"""GIN index for the directory's Italian full-text search, on PostgreSQL only.

The indexed expression is exactly what `network.managers.search_vector()` generates, so the planner
uses it. SQLite (development) has no such index and searches by substring instead.
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

from network.managers import search_vector

INDEX_NAME = "organisation_search_it"


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Organisation = apps.get_model("network", "Organisation")
    schema_editor.add_index(Organisation, GinIndex(search_vector(), name=INDEX_NAME))


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX_NAME}")


class Migration(migrations.Migration):
    dependencies = [("network", "0001_initial")]
    operations = [migrations.RunPython(add_index, remove_index)]
