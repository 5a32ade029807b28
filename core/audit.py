"""The audit log: one row per change to money, membership or personal data.

Call `record()` inside the transaction that makes the change, so the change and its trace commit
or roll back together.
"""

from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from . import statements
from .models import AuditLog, Territory


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    territory: Territory | None,
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return statements.insert(AuditLog(
        actor=actor if is_user else None,
        actor_label=(actor.email if is_user else str(actor or "anonimo"))[:254],
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk or ""),
        object_repr=str(obj)[:200],
        territory=territory,
        changes=changes or {},
    ))


def plain(value: Any) -> Any:
    """A field's value as a row's `changes` keep it: JSON's own types as they are (the log then says a
    yes/no in words and an amount in euros), anything else (a date, a related row, a Decimal) as text."""
    return value if value is None or isinstance(value, bool | int | str) else str(value)


def last_saved(obj: models.Model, *, actions: list[str]) -> tuple[str, Any]:
    """Who saved `obj` last among `actions`, and when (None when no row says): for the editors that
    refuse a save made over someone else's."""
    row = AuditLog.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk), action__in=actions).first()
    if row is None:
        return _("un'altra persona"), None
    return row.actor_display or _("un'altra persona"), row.created_at
