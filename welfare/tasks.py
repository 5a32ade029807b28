from django_tasks import task

from . import imports


@task()
def run_worker_import_task(import_id: int) -> None:
    imports.run_worker_import(import_id=import_id)
