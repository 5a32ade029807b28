from django.db import models
from django.utils import timezone


class EventQuerySet(models.QuerySet):
    def in_territory(self, territory) -> "EventQuerySet":
        return self.filter(territory=territory)

    def published(self) -> "EventQuerySet":
        return self.filter(is_published=True)

    def upcoming(self) -> "EventQuerySet":
        return self.filter(ends_at__gt=timezone.now()).order_by("starts_at")

    def past(self) -> "EventQuerySet":
        return self.filter(ends_at__lte=timezone.now()).order_by("-starts_at")


class RegistrationQuerySet(models.QuerySet):
    def live(self) -> "RegistrationQuerySet":
        return self.exclude(status="cancelled")

    def holding_seats(self) -> "RegistrationQuerySet":
        return self.filter(status__in=["confirmed", "offered"])

    def waiting(self) -> "RegistrationQuerySet":
        return self.filter(status="waitlisted").order_by("created_at", "pk")
