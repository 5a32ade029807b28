from django.core.management.base import BaseCommand
from django.db.models import Q
from django.utils import timezone

from welfare import services
from welfare.models import Plan


class Command(BaseCommand):
    help = "Daily: close the welfare plans whose validity has ended and move their unused credit (never in cash)."

    def handle(self, *args, **options):
        today = timezone.localdate()
        plans = Plan.objects.filter(valid_until__lt=today).exclude(status=Plan.Status.DRAFT)
        total = 0
        pending = plans.filter(Q(status=Plan.Status.ACTIVE) | Q(wallets__account__balance_cents__gt=0)).distinct()
        for plan in pending:
            total += services.close_expired_plan(plan=plan, today=today)
        self.stdout.write(f"{total} wallets emptied.")
