"""The pages every deployment must have from day one: the footer links to them."""

from django.db import migrations

from core.pages import PAGES as PAGES_AT_0002

PAGES = PAGES_AT_0002


def create_pages(apps, schema_editor):
    Page = apps.get_model("core", "Page")
    for data in PAGES:
        Page.objects.get_or_create(slug=data["slug"], defaults=data)


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(create_pages, migrations.RunPython.noop)]
