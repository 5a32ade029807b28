from django.conf import settings
from django.core.management.base import BaseCommand

from core.mail import prune_sent_mail


class Command(BaseCommand):
    help = "Delete the stored copies of sent mail older than MAIL_COPY_RETENTION_DAYS (run daily)."

    def handle(self, *args, **options):
        count = prune_sent_mail()
        days = settings.MAIL_COPY_RETENTION_DAYS
        self.stdout.write(f"Copie di messaggi più vecchie di {days} giorni eliminate: {count}.")
