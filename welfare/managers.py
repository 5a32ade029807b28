import math
from decimal import Decimal

from django.db import models
from django.db.models import Exists, ExpressionWrapper, F, FloatField, OuterRef, Q, Sum, Value

from core.search import search

KM_PER_DEGREE = 111.32


class ServiceQuerySet(models.QuerySet):
    def published(self) -> "ServiceQuerySet":
        # "Not of an inactive provider" rather than a join on the active ones: the few inactive ids
        # are a small hashed subquery, where the join scanned every organisation for each search.
        from network.models import Organisation

        inactive = Organisation.objects.filter(is_active=False).values("pk")
        return self.filter(is_published=True).exclude(provider__in=inactive)

    def search(self, text: str) -> "ServiceQuerySet":
        return search(self, text)

    def nearest_to(self, latitude: float, longitude: float) -> "ServiceQuerySet":
        """Nearest first, services without a place (online ones) last.

        An equirectangular distance: within a city it orders exactly as the great-circle one, costs
        only arithmetic (SQLite has no trigonometry) and `distance_km` is good to a few metres.
        """
        scale = math.cos(math.radians(latitude))
        dy = ExpressionWrapper((F("latitude") - Value(Decimal(str(latitude)))) * Value(KM_PER_DEGREE), FloatField())
        dx = ExpressionWrapper(
            (F("longitude") - Value(Decimal(str(longitude)))) * Value(KM_PER_DEGREE * scale), FloatField()
        )
        return self.annotate(distance_squared=ExpressionWrapper(dx * dx + dy * dy, FloatField())).order_by(
            F("distance_squared").asc(nulls_last=True), "title", "pk"
        )

    def catalogue(self, *, q: str = "", category: str = "", municipio: int | None = None, delivery: str = ""):
        """The public catalogue's filters, shared by the web page and the API."""
        matches = self.search(q)
        if category:
            matches = matches.filter(category=category)
        if delivery:
            matches = matches.filter(delivery=delivery)
        if municipio:
            # Served in that Municipio, or reachable from anywhere (online). EXISTS, not a join: the
            # join repeated a service once per Municipio it serves, and its DISTINCT compared every column.
            served = self.model.municipi.through.objects.filter(service=OuterRef("pk"), municipio__number=municipio)
            matches = matches.filter(Exists(served) | Q(delivery="online"))
        return matches


class OrderQuerySet(models.QuerySet):
    def standing(self) -> "OrderQuerySet":
        """Orders that count: issued or redeemed, not cancelled."""
        return self.exclude(status="cancelled")

    def fringe_spent_cents(self, *, worker, tax_year: int) -> int:
        spent = self.standing().filter(worker=worker, tax_year=tax_year, category="fringe").aggregate(s=Sum("amount_cents"))
        return spent["s"] or 0


def distance_km(latitude: float, longitude: float, other_latitude, other_longitude) -> float | None:
    """Great-circle distance for display (the ordering uses the cheaper `nearest_to`)."""
    if other_latitude is None or other_longitude is None:
        return None
    lat1, lon1, lat2, lon2 = map(math.radians, (latitude, longitude, float(other_latitude), float(other_longitude)))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))
