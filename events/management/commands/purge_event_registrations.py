from django.core.management.base import BaseCommand

from events.services import purge_expired_registrations


class Command(BaseCommand):
    help = "Anonymise the registrations of events past their retention period (run daily)."

    def handle(self, *args, **options):
        count = purge_expired_registrations()
        self.stdout.write(f"{count} iscrizioni anonimizzate.")
