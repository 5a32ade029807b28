"""The default privacy notice now covers event registrations, welfare and mail copies.

A deployment whose notice is still the text migration 0002 wrote gets the new default; one whose
lead body has edited it keeps its own (compared by a hash of the old default, to say which).
"""

import hashlib

from django.db import migrations

from core.pages import PAGES

OLD_DEFAULT_SHA256 = {
    "body": "4eec715285eb7575d520b7cfe0c884a33fc6f863b866f61906465a11c70f3cc8",
    "body_en": "c60ddb1173d0a6d2cd303da395a524873540e0b3b3ab5dfd97071adf9d301643",
}


def update_unedited_notice(apps, schema_editor):
    Page = apps.get_model("core", "Page")
    new = next(page for page in PAGES if page["slug"] == "privacy")
    page = Page.objects.filter(slug="privacy").first()
    if page is None:
        return
    changed = [field for field, digest in OLD_DEFAULT_SHA256.items()
               if hashlib.sha256(getattr(page, field).encode()).hexdigest() == digest]
    for field in changed:
        setattr(page, field, new[field])
    if changed:
        page.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [("core", "0004_idempotencykey")]
    operations = [migrations.RunPython(update_unedited_notice, migrations.RunPython.noop)]
