from django.db import migrations


def fold_search_text(apps, schema_editor):
    """search_text is now stored without accents (core.search.fold): fold what is already there."""
    from core.search import refold_search_text

    refold_search_text(apps.get_model("network", "Organisation"))


class Migration(migrations.Migration):

    dependencies = [
        ("network", "0007_join_request_one_pending"),
    ]

    operations = [
        migrations.RunPython(fold_search_text, migrations.RunPython.noop),
    ]
