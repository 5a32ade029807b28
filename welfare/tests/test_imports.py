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
    assert job.status == "done" and job.rows == [] and job.imported == len(job.enrolled) == 30  # the rows' data is gone
    assert Worker.objects.filter(organisation=firm).count() == 30
    report = admin.get(answer.url).content.decode()
    assert "30 lavoratori iscritti; riceveranno l'invito per email." in report
    assert "hx-trigger" not in report
    assert "importa un file che contiene solo quelle" in report
    # The firm's desk leads back to the report.
    desk = admin.get(f"{FIRM}/welfare/").content.decode()
    assert f'href="{job.get_absolute_url()}"' in desk and "30 lavoratori iscritti</li>" in desk
    assert AuditLog.objects.filter(action="welfare.import.started").get().changes == {"rows": 30, "bad_rows": 1}
    assert AuditLog.objects.filter(action="welfare.import.done").get().changes == {"imported": 30}
    assert AuditLog.objects.filter(action="welfare.worker.enrolled").count() == 30


def test_the_page_follows_the_progress_and_reloads_once_the_import_has_finished(admin, firm):
    admin.post(IMPORT, {"file": csv_of(range(1, 4))})
    job = WorkerImport.objects.get()
    url = job.get_absolute_url()
    cache.set(imports._progress_key(job.pk), 2)  # as the worker writes it while its transaction is open

    page = admin.get(url).content.decode()
    assert 'id="import-progress" role="status"' in page and 'name="seen" value="2:"' in page
    fragment = admin.get(url, {"seen": ""}, HTTP_HX_REQUEST="true")
    text = fragment.content.decode()
    assert "<html" not in text and 'name="seen" value="2:"' in text
    assert "Iscrizione in corso: 2 lavoratori di 3." in text
    assert 'aria-valuenow="2"' in text and 'aria-valuemax="3"' in text and "width: 67%" in text
    assert fragment["Vary"] and "HX-Request" in fragment["Vary"]
    # Nothing new since the last answer: nothing to swap, and the live region is not read out again.
    assert admin.get(url, {"seen": "2:"}, HTTP_HX_REQUEST="true").status_code == 204
    cache.set(imports._progress_key(job.pk), 3)
    assert admin.get(url, {"seen": "2:"}, HTTP_HX_REQUEST="true").status_code == 200

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


def test_a_pool_too_small_for_the_file_is_said_at_once_with_what_the_whole_file_needs(admin, firm):
    plan = make_plan(firm, amount_cents=30000, fund_cents=60000)  # enough for two of three
    answer = admin.post(IMPORT, {"file": csv_of(range(1, 4))})
    text = answer.content.decode()
    assert answer.status_code == 422 and not WorkerImport.objects.exists()
    # What all three need, not what the third one lacked after the first two (300 €).
    assert ("non basta per i 3 lavoratori del file (servono 900,00\xa0€, il fondo ne ha 600,00\xa0€): versa almeno "
            "altri 300,00\xa0€, poi importa di nuovo lo stesso file.") in text
    assert f"/welfare/#fund-{plan.pk}" in text and "Versa nel fondo del piano" in text
    assert not Worker.objects.filter(organisation=firm).exists()


def test_a_pool_spent_before_the_worker_comes_refuses_the_whole_file_in_the_senders_language(admin, firm):
    from django.utils import translation

    make_plan(firm, amount_cents=30000, fund_cents=90000)  # enough for the file when it was sent
    with translation.override("en"):
        admin.post(IMPORT, {"file": csv_of(range(1, 4))}, HTTP_ACCEPT_LANGUAGE="en")
    job = WorkerImport.objects.get()
    assert job.language == "en"
    from welfare.tests.factories import enrol
    enrol(firm, 50)  # meanwhile a worker enrolled by hand takes 300 € of the pool
    imports.run_worker_import(import_id=job.pk)
    job.refresh_from_db()
    assert job.status == "refused" and job.rows == [] and job.enrolled == []
    assert "the 3 workers of the file" in job.error and "fondo" not in job.error  # written by the worker, in English
    assert Worker.objects.filter(organisation=firm).count() == 1
    report = admin.get(job.get_absolute_url()).content.decode()
    assert "the 3 workers of the file" in report and "Nessuna riga del file è stata importata." in report
    assert AuditLog.objects.filter(action="welfare.import.refused").exists()


def test_a_file_sent_again_after_it_went_in_says_there_is_nothing_to_do(admin, firm):
    admin.post(IMPORT, {"file": csv_of(range(1, 4))})
    imports.run_worker_import(import_id=WorkerImport.objects.get().pk)
    again = admin.post(IMPORT, {"file": csv_of(range(1, 4))})
    assert again.status_code == 200 and "non c'è altro da fare" in again.content.decode()
    assert "Correggi queste righe" not in again.content.decode()
    assert WorkerImport.objects.count() == 1


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


def test_reports_go_a_week_after_the_import_and_unfinished_imports_lose_their_rows(firm):
    now = timezone.now()
    old = WorkerImport.objects.create(organisation=firm, status="done", finished_at=now - timedelta(days=8))
    recent = WorkerImport.objects.create(organisation=firm, status="done", finished_at=now - timedelta(days=6))
    # Never finished (no worker ran it, or one stopped half-way): its rows name people.
    stale = WorkerImport.objects.create(organisation=firm, created_at=now - timedelta(days=8), language="en",
                                        rows=[{"tax_code": tax_code(1), "line": 2, "who": "Anna Neri"}])
    waiting = WorkerImport.objects.create(organisation=firm, created_at=now - timedelta(days=1),
                                          rows=[{"tax_code": tax_code(2), "line": 2, "who": "Ugo Riva"}])
    assert imports.prune_worker_imports(now=now) == 1
    assert set(WorkerImport.objects.values_list("pk", flat=True)) == {recent.pk, stale.pk, waiting.pk}
    assert not WorkerImport.objects.filter(pk=old.pk).exists()
    stale.refresh_from_db()
    assert (stale.status, stale.rows, stale.imported) == ("refused", [], 0) and stale.error.startswith("Not completed")
    assert WorkerImport.objects.get(pk=waiting.pk).rows  # still waiting for its worker


def test_rows_enrolled_since_the_file_was_checked_are_reported_not_enrolled_twice(admin, firm):
    # The same file sent twice before the worker got to the first.
    admin.post(IMPORT, {"file": csv_of(range(1, 4))})
    admin.post(IMPORT, {"file": csv_of(range(2, 6))})
    first, second = WorkerImport.objects.order_by("pk")
    imports.run_worker_import(import_id=first.pk)
    imports.run_worker_import(import_id=second.pk)
    second.refresh_from_db()
    assert (second.status, second.imported) == ("done", 2)
    assert [(row["line"], row["errors"]["it"]) for row in second.bad_rows] == [(2, ["Già iscritto nel frattempo."]),
                                                                               (3, ["Già iscritto nel frattempo."])]
    assert Worker.objects.filter(organisation=firm).count() == 5
    report = admin.get(second.get_absolute_url()).content.decode()
    assert "2 lavoratori iscritti" in report and "Già iscritto nel frattempo." in report


def test_an_unexpected_error_ends_the_import_refused_with_its_rows_cleared(admin, firm, monkeypatch):
    admin.post(IMPORT, {"file": csv_of(range(1, 4))})
    job = WorkerImport.objects.get()

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "enrol_workers", broken)
    with pytest.raises(RuntimeError):  # the task fails too, for the operators
        imports.run_worker_import(import_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.rows, job.imported) == ("refused", [], 0) and "Errore imprevisto" in job.error
    assert not Worker.objects.filter(organisation=firm).exists()
    assert "Errore imprevisto" in admin.get(job.get_absolute_url()).content.decode()
    assert AuditLog.objects.filter(action="welfare.import.refused").exists()


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
    assert "si è interrotta prima di finire" in admin.get(job.get_absolute_url(), {"seen": ":"},
                                                           HTTP_HX_REQUEST="true").content.decode()

    imports.run_worker_import(import_id=job.pk)  # a worker after all: the file goes in, the page says so
    job.refresh_from_db()
    assert job.status == "done" and job.started_at > timezone.now() - timedelta(minutes=1)
    assert "si è interrotta" not in admin.get(job.get_absolute_url()).content.decode()


def test_a_cache_that_is_away_does_not_refuse_the_file(admin, firm, monkeypatch):
    admin.post(IMPORT, {"file": csv_of(range(1, 4))})
    job = WorkerImport.objects.get()
    monkeypatch.setattr(services, "PROGRESS_EVERY", 1)

    def unreachable(*args, **kwargs):
        raise ConnectionError("Redis is restarting")

    monkeypatch.setattr(imports.cache, "set", unreachable)
    assert imports.run_worker_import(import_id=job.pk).status == "done"
    assert Worker.objects.filter(organisation=firm).count() == 3
