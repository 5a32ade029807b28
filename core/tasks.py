"""Background work after commit, now or at a given time, with django-tasks."""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


def _enqueue(task, args: tuple, at: datetime | None = None) -> None:
    if at is None:
        task.enqueue(*args)
    elif task.get_backend().supports_defer:
        task.using(run_after=at).enqueue(*args)
    elif at <= timezone.now():
        task.enqueue(*args)
    else:
        # The immediate backend of most tests cannot defer: their tests run such tasks by hand.
        logger.debug("Not scheduling %s for %s: the task backend cannot defer", task.name, at)


def enqueue_after_commit(*jobs: tuple) -> None:
    """Enqueue each `(task, args)` or `(task, args, run_at)` once the current transaction commits.

    With the database backend a task is a row, kept until a worker runs it, so a restart loses
    nothing. All the jobs of one change are written in one transaction: one commit, not one each.
    """

    def enqueue_all() -> None:
        with transaction.atomic():
            for job in jobs:
                _enqueue(*job)

    transaction.on_commit(enqueue_all)


def schedule(task, *args, at: datetime) -> None:
    """Enqueue `task(*args)` to run at `at`, once the current transaction commits."""
    enqueue_after_commit((task, args, at))
