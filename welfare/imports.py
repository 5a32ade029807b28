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

Whatever happens, an import ends: enrolled, or refused with a reason (a plan's pool too small, an
error), its rows' data cleared. A worker that stopped half-way rolled everything back, and
`requeue_stalled_tasks` hands the task to another one; an import that no worker finishes at all (none
running) is refused by `prune_worker_imports` after WorkerImport.KEEP_FOR, which also deletes old
reports. Two imports of one organisation run one after the other.
"""

import logging
from dataclasses import asdict, fields

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from core import audit
from core.tasks import enqueue_after_commit
from network.models import Organisation

from . import services
from .models import Worker, WorkerImport

logger = logging.getLogger(__name__)

PROGRESS_TIMEOUT = 6 * 3600
_DATA_FIELDS = [field.name for field in fields(services.WorkerData)]


def in_every_language(problems: list[tuple]) -> dict[str, list[str]]:
    """A row's problems — (message, parameters) — written in each language of the site: the report is
    stored once and read by whoever opens it, in their language (`reasons`)."""
    texts = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            texts[language] = [
                str(message) % {key: str(value) for key, value in params.items()} if params else str(message)
                for message, params in problems
            ]
    return texts


def reasons(errors) -> list[str]:
    """A bad row's problems in the current language (reports written before they were kept in every
    language hold one list, in the language of whoever sent the file)."""
    if isinstance(errors, dict):
        return errors.get(translation.get_language() or "") or errors.get(settings.LANGUAGE_CODE) or []
    return errors


def _progress_key(import_id: int) -> str:
    return f"welfare:worker-import:{import_id}:done"


def progress(job: WorkerImport) -> int | None:
    """Rows enrolled so far by the worker, when the cache is shared with it; None when unknown."""
    if job.is_finished:
        return job.imported
    return cache.get(_progress_key(job.pk))


@transaction.atomic(durable=True)
def start_worker_import(*, organisation: Organisation, rows: list[tuple[int, str, services.WorkerData]],
                        bad_rows: list[dict], actor, language: str) -> WorkerImport:
    """Keep the checked rows — (line in the file, who, data) — and queue their enrolment; `bad_rows`
    (line, who, errors) are for the report."""
    from .tasks import run_worker_import_task

    job = WorkerImport.objects.create(
        organisation=organisation, created_by=actor, language=language,
        rows=[{"line": line, "who": who, **asdict(data)} for line, who, data in rows], bad_rows=bad_rows,
        total=len(rows),
    )
    audit.record(actor=actor, action="welfare.import.started", obj=job, territory=organisation.territory,
                 changes={"rows": len(rows), "bad_rows": len(bad_rows)})
    enqueue_after_commit((run_worker_import_task, (job.pk,)))
    return job


def run_worker_import(*, import_id: int) -> WorkerImport | None:
    """Enrol an import's rows (in the background worker). Safe to run twice: the import's row is locked,
    and a finished import is left alone. A pool too small for the whole file refuses all of it; so
    does any other error, recorded on the import instead of leaving it waiting for ever."""
    # Committed before the long transaction: the import's page can then tell a file being enrolled
    # from one that no worker has taken up (WorkerImport.looks_stuck).
    WorkerImport.objects.filter(pk=import_id, status=WorkerImport.Status.QUEUED).update(started_at=timezone.now())
    try:
        return _enrol_all_or_none(import_id)
    except Exception as exc:
        # The import ends refused (nobody was enrolled: the transaction rolled back), then the task fails
        # too, so that the operators see it among the failed tasks as well as in the log.
        logger.exception("Worker import %s failed with %s", import_id, type(exc).__name__)
        _refuse(import_id, gettext_lazy(
            "Errore imprevisto: nessun lavoratore del file è stato iscritto. Riprova; se succede ancora, avvisa chi "
            "gestisce la piattaforma."))
        raise


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
    # Another import of this organisation waits for this one, then finds its rows taken (below).
    # NO KEY: the rows that reference the organisation (its workers' purchases…) stay free.
    Organisation.objects.select_for_update(no_key=True).filter(pk=organisation.pk).first()
    # Enrolled since the file was checked (the same file sent twice, a worker added by hand): reported,
    # not enrolled twice.
    taken = set(Worker.objects.filter(organisation=organisation, tax_code__in=[row["tax_code"] for row in job.rows])
                .values_list("tax_code", flat=True))
    with translation.override(job.language):
        meanwhile = in_every_language([(gettext_lazy("Già iscritto nel frattempo."), {})])
        job.bad_rows += [{"line": row["line"], "who": row["who"], "errors": meanwhile}
                         for row in job.rows if row["tax_code"] in taken]
        rows = [services.WorkerData(**{name: row[name] for name in _DATA_FIELDS})
                for row in job.rows if row["tax_code"] not in taken]
        short = services.enrolment_shortfall(organisation, rows)
        if short is not None:  # the pool was spent since the file was checked
            return _finish(job, status=WorkerImport.Status.REFUSED, error=str(short.message))
        try:
            with transaction.atomic():
                workers = services.enrol_workers(
                    organisation=organisation, rows=rows, actor=job.created_by,
                    on_progress=lambda done: _tell_progress(import_id, done),
                )
        except services.WelfareError as exc:
            # The report's messages in the language of whoever sent the file.
            return _finish(job, status=WorkerImport.Status.REFUSED, error=str(exc.message))
    return _finish(job, status=WorkerImport.Status.DONE, workers=workers)


@transaction.atomic
def _refuse(import_id: int, error) -> WorkerImport | None:
    """Refuse an import that has not finished, with `error` (lazy: said in the sender's language)."""
    job = WorkerImport.objects.select_for_update(of=("self",)).select_related("organisation__territory").filter(
        pk=import_id).first()
    if job is None or job.is_finished:
        return None
    with translation.override(job.language):
        return _finish(job, status=WorkerImport.Status.REFUSED, error=str(error))


def _finish(job: WorkerImport, *, status: str, error: str = "", workers: list[Worker] = ()) -> WorkerImport:
    job.status, job.error = status, error
    job.enrolled, job.imported = [worker.pk for worker in workers], len(workers)
    job.rows = []  # personal data no longer needed: the workers are enrolled, or nobody was
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "enrolled", "imported", "rows", "bad_rows", "finished_at"])
    audit.record(actor=job.created_by, action=f"welfare.import.{status}", obj=job,
                 territory=job.organisation.territory,
                 changes={"imported": job.imported} if status == WorkerImport.Status.DONE else {"error": error})
    transaction.on_commit(lambda: cache.delete(_progress_key(job.pk)), robust=True)
    return job


def _tell_progress(import_id: int, done: int) -> None:
    # Only a counter for the page: the cache being away must not refuse the file.
    try:
        cache.set(_progress_key(import_id), done, PROGRESS_TIMEOUT)
    except Exception:  # noqa: BLE001 - any cache backend's error
        logger.warning("Could not store the progress of worker import %s", import_id, exc_info=True)


def prune_worker_imports(*, now=None) -> int:
    """Refuse the imports no worker finished within KEEP_FOR (their rows' data goes), and delete the
    reports of imports finished more than KEEP_FOR ago. Returns how many reports were deleted."""
    now = now or timezone.now()
    cutoff = now - WorkerImport.KEEP_FOR
    for import_id in WorkerImport.objects.filter(finished_at__isnull=True, created_at__lt=cutoff).values_list("pk", flat=True):
        _refuse(import_id, gettext_lazy("Non completata: nessun lavoratore del file è stato iscritto. Importa di nuovo "
                                        "il file."))
    deleted, _per_model = WorkerImport.objects.filter(finished_at__lt=cutoff).delete()
    return deleted
