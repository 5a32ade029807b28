"""Importing a firm's workers from a CSV file, in the background worker, all rows or none.

The page that receives the file checks every row at once (the report of bad rows needs no waiting),
stores the good ones in a `WorkerImport` and queues `run_worker_import`; the firm's admin is taken
to the import's page, which follows the worker's progress and then shows the report. Enrolling a row
costs some thirty statements (user, role, wallets through the ledger, invitation): thousands of rows
would outlast the request's time limit, and a request killed half-way would import nothing while the
admin waited for an answer.

Progress is a count in the shared cache (Redis in production), written every few rows by the worker
while its transaction is still open: the rows themselves are not visible to other connections until
the whole file commits. With a per-process cache (development) the page shows the import as under
way, without the count.
"""

from dataclasses import asdict
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

from core import audit
from core.tasks import enqueue_after_commit
from network.models import Organisation

from . import services
from .models import WorkerImport

# How long an import's report stays after it finished (prune_worker_imports); it names people.
KEEP_REPORTS_FOR = timedelta(days=30)
PROGRESS_TIMEOUT = 6 * 3600


def _progress_key(import_id: int) -> str:
    return f"welfare:worker-import:{import_id}:done"


def progress(job: WorkerImport) -> int | None:
    """Rows enrolled so far by the worker, when the cache is shared with it; None when unknown."""
    if job.is_finished:
        return len(job.enrolled)
    return cache.get(_progress_key(job.pk))


@transaction.atomic(durable=True)
def start_worker_import(*, organisation: Organisation, rows: list[services.WorkerData], bad_rows: list[dict],
                        actor, language: str) -> WorkerImport:
    """Keep the checked rows and queue their enrolment; `bad_rows` (line, who, errors) are for the report."""
    from .tasks import run_worker_import_task

    job = WorkerImport.objects.create(
        organisation=organisation, created_by=actor, language=language, rows=[asdict(row) for row in rows],
        bad_rows=bad_rows, total=len(rows),
    )
    audit.record(actor=actor, action="welfare.import.started", obj=job, territory=organisation.territory,
                 changes={"rows": len(rows), "bad_rows": len(bad_rows)})
    enqueue_after_commit((run_worker_import_task, (job.pk,)))
    return job


def run_worker_import(*, import_id: int) -> WorkerImport | None:
    """Enrol an import's rows (in the background worker). Safe to run twice: the import's row is locked,
    and a finished import is left alone. A pool too small for the whole file refuses all of it."""
    # Committed before the long transaction: the import's page can then tell a file being enrolled
    # from one that no worker has taken up (WorkerImport.looks_stuck).
    WorkerImport.objects.filter(pk=import_id, status=WorkerImport.Status.QUEUED).update(started_at=timezone.now())
    return _enrol_all_or_none(import_id)


# Not durable: the worker calls it at the top level, but the tests' immediate task backend runs it
# inside the transaction that queued it.
@transaction.atomic
def _enrol_all_or_none(import_id: int) -> WorkerImport | None:
    # The import's row only (`of`): FOR UPDATE on the organisation's or the territory's row, joined
    # here, would stop every insert that references them (purchases, registrations…) until the file is in.
    job = (WorkerImport.objects.select_for_update(of=("self",)).select_related("organisation__territory")
           .filter(pk=import_id).first())
    if job is None or job.is_finished:
        return None
    organisation = job.organisation
    rows = [services.WorkerData(**row) for row in job.rows]
    actor = job.created_by
    # The report's messages (a plan's pool too small) in the language of whoever sent the file.
    with translation.override(job.language):
        try:
            with transaction.atomic():
                workers = services.enrol_workers(
                    organisation=organisation, rows=rows, actor=actor,
                    on_progress=lambda done: cache.set(_progress_key(job.pk), done, PROGRESS_TIMEOUT),
                )
        except services.WelfareError as exc:
            job.status, job.error = WorkerImport.Status.REFUSED, str(exc.message)
        else:
            job.status, job.enrolled = WorkerImport.Status.DONE, [worker.pk for worker in workers]
    job.rows = []  # personal data no longer needed: the workers are enrolled, or nobody was
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "enrolled", "rows", "finished_at"])
    audit.record(actor=actor, action=f"welfare.import.{job.status}", obj=job, territory=organisation.territory,
                 changes={"enrolled": len(job.enrolled)} if job.status == WorkerImport.Status.DONE else {"error": job.error})
    transaction.on_commit(lambda: cache.delete(_progress_key(import_id)))
    return job


def prune_worker_imports(*, now=None) -> int:
    """Delete the reports of imports finished more than KEEP_REPORTS_FOR ago. Returns how many."""
    cutoff = (now or timezone.now()) - KEEP_REPORTS_FOR
    deleted, _per_model = WorkerImport.objects.filter(finished_at__lt=cutoff).delete()
    return deleted
