from django.core.management.base import BaseCommand

from welfare.imports import KEEP_REPORTS_FOR, prune_worker_imports


class Command(BaseCommand):
    help = "Delete the reports of worker imports finished more than 30 days ago (run daily): they name people."

    def handle(self, *args, **options):
        count = prune_worker_imports()
        self.stdout.write(f"Resoconti di importazioni conclusi da più di {KEEP_REPORTS_FOR.days} giorni eliminati: {count}.")
