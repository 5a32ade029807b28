"""The demo's events: the MIRE final event of 28 November 2023, and one upcoming event open for registration."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from network.models import Organisation

from .models import Event, Question, Session, WorkingTable

ROME = ZoneInfo("Europe/Rome")


# National holidays on a fixed date (Easter Monday moves, but falls on a Monday, which is skipped anyway).
FIXED_HOLIDAYS = {(1, 1), (1, 6), (4, 25), (5, 1), (6, 2), (8, 15), (11, 1), (12, 7), (12, 8), (12, 25), (12, 26)}


def _working_day_after(day: datetime) -> datetime:
    """`day`, or the first day after it that suits an afternoon event: Tuesday to Thursday, not a holiday
    (7 December is Sant'Ambrogio, Milan's patron saint)."""
    while day.weekday() not in (1, 2, 3) or (day.month, day.day) in FIXED_HOLIDAYS:
        day += timedelta(days=1)
    return day


def _at(day: datetime, hhmm: str) -> datetime:
    hours, minutes = map(int, hhmm.split(":"))
    return day.replace(hour=hours, minute=minutes)


FINAL_DAY = datetime(2023, 11, 28, tzinfo=ROME)

FINAL_EVENT = {
    "slug": "vantaggi-welfare-in-rete-2023",
    "title": "I vantaggi del welfare in rete: una scelta strategica di impatto",
    "summary": "L'evento finale di MIRE: tre anni di conciliazione vita-lavoro a Milano, i risultati e il futuro.",
    "description": (
        "La mattina è dedicata al confronto tra esperienze di conciliazione, al racconto del percorso della rete "
        "e ai primi risultati della ricerca sul modello MIRE. Il pomeriggio il *Laboratorio di idee* riunisce "
        "partner e organizzazioni interessate in tre tavoli di lavoro paralleli."
    ),
    "mode": Event.Mode.IN_PERSON,
    "venue_name": "Luiss Hub Milano, Sala Vetri",
    "venue_address": "Via D'Azeglio 3, Milano",
    "latitude": Decimal("45.483600"),
    "longitude": Decimal("9.186200"),
    "starts_at": _at(FINAL_DAY, "09:30"),
    "ends_at": _at(FINAL_DAY, "15:30"),
    "capacity": 120,
    "table_mode": Event.TableMode.RANKED,
    "is_published": True,
}

FINAL_SESSIONS = [
    ("09:30", "10:00", "Accoglienza e saluti", "", ""),
    ("10:00", "11:00", "Esperienze di conciliazione a confronto", "Sala Vetri",
     "Associazione Piccole e Medie Industrie, Assolombarda, CGIL, CISL e UIL Milano, Cittadella del Welfare, Smartworking Srl"),
    ("11:00", "11:45", "Il percorso di MIRE e il suo framework di azione", "Sala Vetri", "I partner della rete"),
    ("11:45", "12:30", "Il modello MIRE: primi risultati della ricerca", "Sala Vetri",
     "Valentino Santoni, Percorsi di secondo welfare"),
    ("12:30", "13:30", "Pausa pranzo", "", ""),
    ("13:30", "15:30", "Laboratorio di idee: tavoli di lavoro paralleli", "", ""),
]

FINAL_TABLES = [
    ("Portare il modello in altri territori",
     "Cosa della sperimentazione milanese si può trasferire, e come, in vista del nuovo Piano Territoriale di Conciliazione."),
    ("Il welfare in rete", "Significati e opportunità del welfare aziendale condiviso tra piccole imprese."),
    ("Diversity & Inclusion", "Politiche di diversità e inclusione nelle organizzazioni del territorio."),
]

UPCOMING_EVENT = {
    "slug": "smart-working-nelle-piccole-imprese",
    "title": "Smart working nelle piccole imprese: accordi, diritti, strumenti",
    "summary": "Un pomeriggio pratico per imprese e lavoratori: come scrivere un buon accordo di lavoro agile.",
    "description": (
        "Dalla legge 81/2017 all'accordo individuale: durata, alternanza, luoghi, strumenti, diritto alla "
        "disconnessione. Con esempi di piccole imprese della rete e un tavolo di domande aperte."
    ),
    "mode": Event.Mode.HYBRID,
    "venue_name": "Spazio Comune Niguarda",
    "venue_address": "Via Hermada 8, Milano",
    "latitude": Decimal("45.514900"),
    "longitude": Decimal("9.193600"),
    "online_url": "https://meet.example.org/mire-smart-working",
    "capacity": 60,
    "table_mode": Event.TableMode.FIRST_COME,
    "offer_hours": 24,
    "is_published": True,
}


def load(territory) -> None:
    final, created = Event.objects.get_or_create(territory=territory, slug=FINAL_EVENT["slug"], defaults=FINAL_EVENT)
    if created:
        for start, end, title, room, speakers in FINAL_SESSIONS:
            Session.objects.create(event=final, starts_at=_at(FINAL_DAY, start), ends_at=_at(FINAL_DAY, end),
                                   title=title, room=room, speakers=speakers)
        for position, (title, description) in enumerate(FINAL_TABLES):
            WorkingTable.objects.create(event=final, title=title, description=description, capacity=40, position=position)
        final.organisers.set(Organisation.objects.filter(territory=territory, slug="comune-di-milano"))

    day = _working_day_after(timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=30))
    upcoming, created = Event.objects.get_or_create(
        territory=territory, slug=UPCOMING_EVENT["slug"],
        defaults={**UPCOMING_EVENT, "starts_at": _at(day, "14:30"), "ends_at": _at(day, "17:30")},
    )
    if created:
        Session.objects.create(event=upcoming, starts_at=_at(day, "14:30"), ends_at=_at(day, "15:30"),
                               title="L'accordo individuale di lavoro agile, punto per punto", room="Sala grande",
                               speakers="Piano C Associazione")
        Session.objects.create(event=upcoming, starts_at=_at(day, "15:45"), ends_at=_at(day, "17:30"),
                               title="Tavoli di domande aperte", room="")
        for position, (title, seats) in enumerate([("Imprese", 25), ("Lavoratrici e lavoratori", 25)]):
            WorkingTable.objects.create(event=upcoming, title=title, capacity=seats, position=position)
        Question.objects.create(event=upcoming, label="Quante persone lavorano nella tua organizzazione?",
                                kind=Question.Kind.SINGLE, choices=["1-9", "10-49", "50-249", "250 e oltre"], position=1)
        Question.objects.create(event=upcoming, label="La tua organizzazione usa già lo smart working?",
                                kind=Question.Kind.YES_NO, is_required=True, position=2)
        upcoming.organisers.set(Organisation.objects.filter(territory=territory, slug__in=["comune-di-milano", "piano-c"]))
