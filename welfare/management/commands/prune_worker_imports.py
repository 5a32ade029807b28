from django.core.management.base import BaseCommand

from welfare.imports import prune_worker_imports
from welfare.models import WorkerImport


class Command(BaseCommand):
    help = ("Refuse worker imports no background worker finished within 7 days, and delete the reports of "
            "imports finished more than 7 days ago (run daily): they name people.")

    def handle(self, *args, **options):
        count = prune_worker_imports()
        days = WorkerImport.KEEP_FOR.days
        self.stdout.write(f"Resoconti di importazioni conclusi da più di {days} giorni eliminati: {count}.")
