from datetime import timedelta

from django.utils import timezone

from events.models import Event, WorkingTable

_counter = iter(range(1, 1_000_000))


def make_event(territory, *, capacity=100, tables=(), table_mode="none", offer_hours=None, **fields) -> Event:
    n = next(_counter)
    starts = fields.pop("starts_at", timezone.now() + timedelta(days=10))
    fields.setdefault("is_published", True)
    event = Event.objects.create(
        territory=territory, slug=f"evento-{n}", title=f"Evento {n}", summary="Un evento della rete.",
        starts_at=starts, ends_at=starts + timedelta(hours=6), capacity=capacity,
        table_mode=table_mode, offer_hours=offer_hours, **fields,
    )
    for position, (title, seats) in enumerate(tables):
        WorkingTable.objects.create(event=event, title=title, capacity=seats, position=position)
    return event


def person(n: int, **extra) -> dict:
    return {"first_name": f"Persona{n}", "last_name": "Prova", "email": f"persona{n}@example.org", **extra}
