"""Background work after commit, now or at a given time, with django-tasks."""

import logging
from datetime import datetime, timedelta

from django.db import DEFAULT_DB_ALIAS, router, transaction
from django.utils import timezone

from . import statements

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


def _stored_in_this_transaction(task) -> bool:
    """Whether enqueueing `task` only writes a row to the database of the current transaction."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    return isinstance(task.get_backend(), DatabaseBackend) and router.db_for_write(DBTaskResult) == DEFAULT_DB_ALIAS


def enqueue_after_commit(*jobs: tuple) -> None:
    """Enqueue each `(task, args)` or `(task, args, run_at)` once the current transaction commits.

    With the database backend a task is a row, kept until a worker runs it, so a restart loses
    nothing. That row is written in the current transaction itself: workers see it only once the
    transaction commits, and never if it rolls back, which is what "after commit" means, without a
    second transaction and a second wait for the disk. Other backends (the immediate one of the
    tests, a broker) would run or publish the task at once, so for them it waits for the commit, and
    all the jobs of one change are then written in one transaction: one commit, not one each.
    """

    def enqueue_all() -> None:
        # Within the caller's transaction no savepoint is needed: the jobs commit or roll back with it.
        with transaction.atomic(savepoint=False):
            for job in jobs:
                _enqueue(*job)

    if all(_stored_in_this_transaction(job[0]) for job in jobs):
        _store_together(jobs)
    else:
        transaction.on_commit(enqueue_all)


# Rows per INSERT: 7,500 parameters (a task row has 15 columns), under SQLite's limit of 32,766.
STORE_BATCH = 500


def _store_together(jobs: tuple) -> None:
    """Write the task rows of the jobs, as DatabaseBackend.enqueue writes each one (the same columns,
    validated the same way), with one INSERT per STORE_BATCH.

    One job per registration when an event moves: 3,000 people were 6,000 INSERTs, seconds during
    which the coordinator waited and the event's row stayed locked against registrations. A single
    job (a registration in a rush) is one INSERT whose SQL is built once (core/statements.py).
    Neither sends the pre_save signal, so run_after gets here the value django_tasks_db's receiver
    gives a task that may run at once (its far-future "no date"), nor django-tasks' task_enqueued,
    which only writes a debug line to the log.
    """
    from django_tasks.utils import normalize_json
    from django_tasks_db.models import DBTaskResult, get_date_max

    rows = []
    for task, args, *when in jobs:
        at = when[0] if when else None
        if at is not None:
            task = task.using(run_after=at)
        backend = task.get_backend()
        backend.validate_task(task)
        rows.append(
            DBTaskResult(
                args_kwargs=normalize_json({"args": args, "kwargs": {}}), priority=task.priority,
                task_path=task.module_path, queue_name=task.queue_name, run_after=task.run_after or get_date_max(),
                backend_name=backend.alias,
            )
        )
    if len(rows) == 1:
        statements.insert(rows[0], signals_done=True)  # run_after, above
    else:
        DBTaskResult.objects.bulk_create(rows, batch_size=STORE_BATCH)


def schedule(task, *args, at: datetime) -> None:
    """Enqueue `task(*args)` to run at `at`, once the current transaction commits."""
    enqueue_after_commit((task, args, at))


# Longer than any of our tasks runs (a 5,000-row worker import takes about 80 s).
STALLED_AFTER = timedelta(minutes=15)


def requeue_stalled_tasks(*, now: datetime | None = None, after: timedelta = STALLED_AFTER) -> int:
    """Put back in the queue the tasks a worker claimed and never finished: it died (killed, a
    restart, the machine) with the task marked as running, and django-tasks-db does not run such a
    task again by itself. Returns how many.

    So a task may run twice, also at once if a worker still running it after STALLED_AFTER was not
    dead after all: every task must finish well within it, and be harmless when run again. Ours are:
    a reminder is marked sent once, an expired offer is checked under its event's lock, an import
    locks its row and does nothing once finished, a delivery (core.mail.deliver_mail) skips a message
    already handed to the mail server. A registration mail rendered twice is stored and sent twice:
    mail is at least once, which is better than never.
    """
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    cutoff = (now or timezone.now()) - after
    return DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff).update(
        status=TaskResultStatus.READY, started_at=None
    )
