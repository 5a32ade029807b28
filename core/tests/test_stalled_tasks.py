"""A task whose worker died half-way is run again: no work is lost (../shared/DESIGN.md)."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.tasks import requeue_stalled_tasks

pytestmark = pytest.mark.django_db


def test_a_task_left_running_by_a_dead_worker_is_queued_again_and_run(settings, client_as, personas, firm):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django_tasks_db.models import DBTaskResult

    from welfare.models import Worker, WorkerImport
    from welfare.tests.factories import ensure_thresholds, tax_code

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    ensure_thresholds()
    rows = "codice_fiscale,nome,cognome,email\n" + f"{tax_code(5)},Anna,Neri,anna@example.org\n"
    client_as(personas["org_admin"]).post("/milano/organizzazioni/officine-test/welfare/lavoratori/importa/",
                                          {"file": SimpleUploadedFile("w.csv", rows.encode())})
    task = DBTaskResult.objects.get(task_path="welfare.tasks.run_worker_import_task")
    # A worker claimed it and died: the task stays "running", and no worker takes a running task.
    task.claim("worker-that-died")
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=timezone.now() - timedelta(minutes=16))
    recent = DBTaskResult.objects.create(task_path="core.mail.deliver_mail", args_kwargs={"args": [0], "kwargs": {}},
                                         status="RUNNING", started_at=timezone.now() - timedelta(minutes=2),
                                         backend_name="default", queue_name="default")

    assert requeue_stalled_tasks() == 1  # the one still within its time is left to its worker
    assert DBTaskResult.objects.get(pk=recent.pk).status == "RUNNING"

    # Ready again: the next worker takes it (db_worker picks from exactly this queryset) and runs it.
    again = DBTaskResult.objects.ready().get(pk=task.pk)
    again.task.call(*again.args_kwargs["args"])
    assert WorkerImport.objects.get().status == "done"
    assert Worker.objects.filter(tax_code=tax_code(5)).exists()


def test_the_command_says_how_many_it_put_back(capsys):
    call_command("requeue_stalled_tasks")
    assert "rimessi in coda: 0" in capsys.readouterr().out
