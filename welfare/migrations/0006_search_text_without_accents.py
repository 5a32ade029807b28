from django.db import migrations


def fold_search_text(apps, schema_editor):
    """search_text is now stored without accents (core.search.fold): fold what is already there."""
    from core.search import refold_search_text

    refold_search_text(apps.get_model("welfare", "Service"))


class Migration(migrations.Migration):

    dependencies = [
        ("welfare", "0005_order_cancelled_by"),
    ]

    operations = [
        migrations.RunPython(fold_search_text, migrations.RunPython.noop),
    ]
