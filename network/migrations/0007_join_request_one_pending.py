from django.db import migrations, models
from django.utils import timezone


def reject_duplicate_pending(apps, schema_editor):
    """Before the constraint: of several pending requests for one organisation (double clicks), keep
    the first and close the others, so the coordinators decide it once."""
    JoinRequest = apps.get_model("network", "JoinRequest")
    AuditLog = apps.get_model("core", "AuditLog")
    seen = set()
    for jr in JoinRequest.objects.filter(status="pending").order_by("created_at", "pk"):
        key = (jr.territory_id, jr.tax_code)
        if key in seen:
            reason = "Richiesta doppia: la stessa organizzazione ha già una richiesta in esame."
            JoinRequest.objects.filter(pk=jr.pk).update(status="rejected", decided_at=timezone.now(),
                                                        rejection_reason=reason)
            AuditLog.objects.create(
                actor_label="sistema", action="join_request.rejected", object_type="network.joinrequest",
                object_id=str(jr.pk), object_repr=jr.name[:200], territory_id=jr.territory_id,
                changes={"reason": reason},
            )
        seen.add(key)


class Migration(migrations.Migration):

    dependencies = [
        ("network", "0006_joinrequest_language"),
        ("core", "0005_privacy_notice_events_welfare_mail"),
    ]

    operations = [
        migrations.RunPython(reject_duplicate_pending, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="joinrequest",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "pending")),
                fields=("territory", "tax_code"),
                name="join_request_one_pending_per_organisation",
            ),
        ),
    ]
