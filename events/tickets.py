"""What a registrant carries: a calendar entry (.ics) and a QR code of the ticket."""

import io

import segno
from django.conf import settings
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from .models import Event, Registration

PRODID = "-//MIRE//Eventi//IT"


def calendar_entry(event: Event, *, for_registrant: bool = False) -> CalendarEvent:
    """The event in a calendar. `for_registrant`: the copy mailed to someone with a seat, which
    carries the online link that the public feed keeps for registered people only."""
    entry = CalendarEvent()
    entry.add("uid", f"event-{event.pk}@{settings.SITE_URL.split('://')[-1]}")
    entry.add("summary", event.title)
    entry.add("dtstart", event.starts_at)
    entry.add("dtend", event.ends_at)
    entry.add("dtstamp", event.details_changed_at or event.created_at)
    entry.add("sequence", event.calendar_sequence)
    online = for_registrant and event.online_url and event.mode != Event.Mode.IN_PERSON
    lines = [event.summary, *([event.online_url] if online else []), settings.SITE_URL + event.get_absolute_url()]
    entry.add("description", "\n\n".join(line for line in lines if line))
    entry.add("url", settings.SITE_URL + event.get_absolute_url())
    location = ", ".join(part for part in (event.venue_name, event.venue_address) if part)
    if not location and online:
        location = event.online_url
    if location:
        entry.add("location", location)
    return entry


def ics_for_events(events, *, name: str, for_registrant: bool = False) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for event in events:
        calendar.add_component(calendar_entry(event, for_registrant=for_registrant))
    return calendar.to_ical()


def ticket_qr_png(registration: Registration, scale: int = 6) -> bytes:
    buffer = io.BytesIO()
    # make_qr: a full QR code; segno.make picks a Micro QR for short texts, which phone scanners and jsQR can't read.
    segno.make_qr(registration.ticket_code, error="m").save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def ticket_qr_svg(registration: Registration) -> str:
    return segno.make_qr(registration.ticket_code, error="m").svg_inline(scale=6, border=4, title=registration.ticket_code)
