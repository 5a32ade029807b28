from django.core.management.base import BaseCommand

from core.tasks import STALLED_AFTER, requeue_stalled_tasks


class Command(BaseCommand):
    help = (f"Put back in the queue the background tasks a worker claimed more than {STALLED_AFTER} ago and "
            "never finished (the worker died). Run every few minutes.")

    def handle(self, *args, **options):
        count = requeue_stalled_tasks()
        self.stdout.write(f"Lavori in background rimessi in coda: {count}.")
