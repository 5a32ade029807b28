from django.core.management.base import BaseCommand

from core.idempotency import KEEP_FOR, prune


class Command(BaseCommand):
    help = f"Delete the API's Idempotency-Key records older than {KEEP_FOR} (run daily)."

    def handle(self, *args, **options):
        count = prune()
        self.stdout.write(f"{count} chiavi di idempotenza eliminate.")
