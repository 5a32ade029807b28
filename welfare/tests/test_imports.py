"""A firm's CSV of workers: checked at once, enrolled by the background worker (all rows or none), followed
on the import's own page, its report kept for a month."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from conftest import make_organisation
from core.models import AuditLog
from welfare import imports, services
from welfare.models import Worker, WorkerImport

from .factories import ensure_thresholds, make_plan, tax_code

pytestmark = pytest.mark.django_db

FIRM = "/milano/organizzazioni/officine-test"
IMPORT = f"{FIRM}/welfare/lavoratori/importa/"


def csv_of(numbers, bad: str = "") -> SimpleUploadedFile:
    rows = ["codice_fiscale,nome,cognome,email"] + [f"{tax_code(n)},Nome{n},Prova,p{n}@example.org" for n in numbers]
    if bad:
        rows.append(bad)
    return SimpleUploadedFile("lavoratori.csv", "\n".join(rows).encode())


@pytest.fixture
def admin(client_as, personas, firm):
    ensure_thresholds()
    return client_as(personas["org_admin"])


def test_the_file_is_checked_at_once_and_enrolled_by_the_worker(admin, firm, personas):
    make_plan(firm, amount_cents=10000, fund_cents=1_000_000)
    # No on-commit callbacks run in this test: the worker has not got to the import yet.
    answer = admin.post(IMPORT, {"file": csv_of(range(1, 31), bad="RSSMRA85T10A562X,Rosa,Verdi,rosa@example.org")})
    job = WorkerImport.objects.get()
    assert answer.status_code == 302 and answer.url == job.get_absolute_url()
    assert (job.status, job.total, len(job.rows)) == ("queued", 30, 30)
    assert not Worker.objects.filter(organisation=firm).exists()

    waiting = admin.get(answer.url).content.decode()
    assert "Iscrizione di 30 lavoratori in corso." in waiting
    assert "Puoi lasciare questa pagina" in waiting and 'hx-trigger="every 2s"' in waiting
    # The bad row is reported already, with what to do while the others go in.
    assert "<td>Rosa Verdi (RSSMRA85T10A562X)</td>" in waiting and "restano fuori da questa importazione" in waiting

    imports.run_worker_import(import_id=job.pk)  # what the background worker does

    job.refresh_from_db()
    assert job.status == "done" and job.rows == [] and len(job.enrolled) == 30  # the rows' data is gone
    assert Worker.objects.filter(organisation=firm).count() == 30
    report = admin.get(answer.url).content.decode()
    assert "30 lavoratori iscritti; riceveranno l'invito per email." in report
    assert "hx-trigger" not in report
    assert "importa un file che contiene solo quelle" in report
    # The firm's desk leads back to the report.
    desk = admin.get(f"{FIRM}/welfare/").content.decode()
    assert f'href="{job.get_absolute_url()}"' in desk and "30 lavoratori iscritti</li>" in desk
    assert AuditLog.objects.filter(action="welfare.import.started").get().changes == {"rows": 30, "bad_rows": 1}
    assert AuditLog.objects.filter(action="welfare.import.done").get().changes == {"enrolled": 30}
    assert AuditLog.objects.filter(action="welfare.worker.enrolled").count() == 30


def test_the_page_follows_the_progress_and_reloads_once_the_import_has_finished(admin, firm):
    admin.post(IMPORT, {"file": csv_of(range(1, 4))})
    job = WorkerImport.objects.get()
    url = job.get_absolute_url()
    cache.set(imports._progress_key(job.pk), 2)  # as the worker writes it while its transaction is open

    fragment = admin.get(url, HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert "<html" not in text and 'id="import-progress"' in text
    assert "Iscrizione in corso: 2 lavoratori di 3." in text
    assert 'aria-valuenow="2"' in text and 'aria-valuemax="3"' in text and "width: 67%" in text
    assert fragment["Vary"] and "HX-Request" in fragment["Vary"]

    imports.run_worker_import(import_id=job.pk)
    done = admin.get(url, HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"


def test_enrolling_reports_progress_every_few_rows(firm, monkeypatch):
    from django.db import transaction

    ensure_thresholds()
    monkeypatch.setattr(services, "PROGRESS_EVERY", 2)
    heard = []
    rows = [services.WorkerData(tax_code=tax_code(n), first_name="A", last_name="B", email=f"x{n}@example.org")
            for n in range(5)]
    with transaction.atomic():
        services.enrol_workers(organisation=firm, rows=rows, actor=None, on_progress=heard.append)
    assert heard == [2, 4]


def test_a_pool_too_small_refuses_the_whole_file_in_the_senders_language(admin, firm):
    make_plan(firm, amount_cents=30000, fund_cents=60000)  # enough for two of three
    admin.post(IMPORT, {"file": csv_of(range(1, 4))}, HTTP_ACCEPT_LANGUAGE="en")
    job = WorkerImport.objects.get()
    assert job.language == "en"
    imports.run_worker_import(import_id=job.pk)
    job.refresh_from_db()
    assert job.status == "refused" and job.rows == [] and job.enrolled == []
    assert "not enough in the fund" in job.error and "fondo" not in job.error  # written by the worker, in English
    assert not Worker.objects.filter(organisation=firm).exists()
    report = admin.get(job.get_absolute_url()).content.decode()
    assert job.error.split(":")[0] in report.replace("&#x27;", "'")
    assert AuditLog.objects.filter(action="welfare.import.refused").exists()


def test_running_an_import_twice_enrols_its_rows_once(admin, firm):
    admin.post(IMPORT, {"file": csv_of(range(1, 4))})
    job = WorkerImport.objects.get()
    assert imports.run_worker_import(import_id=job.pk).status == "done"
    assert imports.run_worker_import(import_id=job.pk) is None  # a task delivered twice
    assert Worker.objects.filter(organisation=firm).count() == 3


def test_a_file_without_a_good_row_starts_no_import(admin):
    answer = admin.post(IMPORT, {"file": csv_of([], bad="RSSMRA85T10A562X,Rosa,Verdi,rosa@example.org")})
    assert answer.status_code == 422 and "ogni riga del file ha un problema" in answer.content.decode()
    assert not WorkerImport.objects.exists()


def test_with_the_database_backend_the_import_is_queued_with_its_rows(admin, settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    admin.post(IMPORT, {"file": csv_of(range(1, 3))})
    job = WorkerImport.objects.get()
    [queued] = DBTaskResult.objects.filter(task_path="welfare.tasks.run_worker_import_task")
    assert queued.args_kwargs["args"] == [job.pk]


def test_another_organisations_import_is_not_found(client_as, personas, territory, firm):
    from accounts.models import Role
    from conftest import make_user

    other = make_organisation(territory, "Altra Srl")
    other_admin = make_user("admin@altra.example.org")
    Role.objects.create(user=other_admin, kind=Role.Kind.ORG_ADMIN, territory=territory, organisation=other)
    job = WorkerImport.objects.create(organisation=firm, total=1, rows=[{"tax_code": tax_code(1)}])
    client = client_as(other_admin)
    assert client.get(f"/milano/organizzazioni/altra-srl/welfare/lavoratori/importazioni/{job.pk}/").status_code == 404
    assert client.get(job.get_absolute_url()).status_code == 403


def test_reports_are_deleted_a_month_after_the_import_finished(firm):
    now = timezone.now()
    old = WorkerImport.objects.create(organisation=firm, status="done", finished_at=now - timedelta(days=31))
    recent = WorkerImport.objects.create(organisation=firm, status="done", finished_at=now - timedelta(days=29))
    waiting = WorkerImport.objects.create(organisation=firm, created_at=now - timedelta(days=60))
    assert imports.prune_worker_imports(now=now) == 1
    assert set(WorkerImport.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not WorkerImport.objects.filter(pk=old.pk).exists()


def test_the_page_says_when_no_worker_took_the_import_up_or_it_stopped_half_way(admin, firm):
    admin.post(IMPORT, {"file": csv_of(range(1, 3))})
    job = WorkerImport.objects.get()
    assert "sembra fermo" not in admin.get(job.get_absolute_url()).content.decode()  # just sent

    WorkerImport.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=6))
    assert "non è ancora partita" in admin.get(job.get_absolute_url()).content.decode()

    WorkerImport.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(minutes=1))
    running = admin.get(job.get_absolute_url()).content.decode()
    assert "non è ancora partita" not in running and "si è interrotta" not in running

    WorkerImport.objects.filter(pk=job.pk).update(started_at=timezone.now() - timedelta(minutes=31))
    assert "si è interrotta prima di finire" in admin.get(job.get_absolute_url(), HTTP_HX_REQUEST="true").content.decode()

    imports.run_worker_import(import_id=job.pk)  # a worker after all: the file goes in, the page says so
    job.refresh_from_db()
    assert job.status == "done" and job.started_at > timezone.now() - timedelta(minutes=1)
    assert "si è interrotta" not in admin.get(job.get_absolute_url()).content.decode()
