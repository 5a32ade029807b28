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

    def organised_by(self, organisation_ids) -> "EventQuerySet":
        # EXISTS on the link table: an event organised by two of the person's organisations once.
        links = self.model.organisers.through.objects.filter(event=models.OuterRef("pk"),
                                                             organisation__in=organisation_ids)
        return self.filter(models.Exists(links))


class RegistrationQuerySet(models.QuerySet):
    def live(self) -> "RegistrationQuerySet":
        return self.exclude(status="cancelled")

    def holding_seats(self) -> "RegistrationQuerySet":
        return self.filter(status__in=["confirmed", "offered"])

    def waiting(self) -> "RegistrationQuerySet":
        return self.filter(status="waitlisted").order_by("created_at", "pk")
