from django.core.management.base import BaseCommand

from network.services import JOIN_REQUEST_RETENTION, purge_expired_join_requests


class Command(BaseCommand):
    help = "Erase join requests past their retention period (run daily, e.g. from cron)."

    def handle(self, *args, **options):
        count = purge_expired_join_requests()
        self.stdout.write(f"{count} richieste oltre i {JOIN_REQUEST_RETENTION.days} giorni di conservazione cancellate.")
