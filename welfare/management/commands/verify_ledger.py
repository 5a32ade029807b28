import sys

from django.core.management.base import BaseCommand

from welfare import ledger
from welfare.models import Account, Entry, Transfer


class Command(BaseCommand):
    help = "Prove the welfare ledger: every transfer sums to zero, every cached balance equals its entries."

    def handle(self, *args, **options):
        problems = ledger.verify()
        if problems:
            for problem in problems:
                self.stderr.write(f"{problem.what}: {problem.detail}")
            self.stderr.write(self.style.ERROR(f"Ledger NOT consistent: {len(problems)} problem(s) (at most 100 per kind shown)."))
            sys.exit(1)
        self.stdout.write(self.style.SUCCESS(
            f"Ledger OK: {Transfer.objects.count()} transfers, {Entry.objects.count()} entries, "
            f"{Account.objects.count()} accounts; every transfer sums to zero, every balance equals its entries."
        ))
