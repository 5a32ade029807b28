from django.db import migrations


def fold_search_text(apps, schema_editor):
    """search_text is now stored without accents (core.search.fold): fold what is already there."""
    from core.search import fold

    Model = apps.get_model("network", "Organisation")
    for pk, text in Model.objects.values_list("pk", "search_text").iterator(chunk_size=2000):
        if fold(text) != text:
            Model.objects.filter(pk=pk).update(search_text=fold(text))


class Migration(migrations.Migration):

    dependencies = [
        ("network", "0007_join_request_one_pending"),
    ]

    operations = [
        migrations.RunPython(fold_search_text, migrations.RunPython.noop),
    ]
