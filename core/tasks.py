"""Background work scheduled for later (reminders, expiring offers) with django-tasks."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


def schedule(task, *args, at: datetime) -> None:
    """Enqueue `task(*args)` to run at `at`, once the current transaction commits.

    The database backend keeps the task as a row until then, so a restart loses nothing. A backend
    that cannot defer (the immediate one used by most tests) runs a task that is already due and
    skips a future one, which its tests then run by hand.
    """

    def enqueue() -> None:
        if task.get_backend().supports_defer:
            task.using(run_after=at).enqueue(*args)
        elif at <= timezone.now():
            task.enqueue(*args)
        else:
            logger.debug("Not scheduling %s for %s: the task backend cannot defer", task.name, at)

    transaction.on_commit(enqueue)
