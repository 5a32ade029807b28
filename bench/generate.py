"""Fill the benchmark database with one territory, `milano`, at a chosen scale.

    DATABASE_URL=... python bench/generate.py --scale M

M is a large city's network (2,000 firms, 1,500 providers, 100,000 workers); S is a tenth of it and
L ten times it. The data is seeded, so two runs at the same scale produce the same rows. Run it on
an empty, migrated database: bench/run.py drops and recreates the database before calling it.
"""

import argparse
import math
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

import welfare_data  # noqa: E402  (bench/, next to this file)
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.utils.text import slugify  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from core.models import Municipio, Territory  # noqa: E402
from core.search import fold  # noqa: E402
from network import demo  # noqa: E402
from network.models import NetworkRole, Organisation, OrganisationKind, SizeClass  # noqa: E402

SCALES = {"S": 0.1, "M": 1.0, "L": 10.0}
# At M: a large city's network.
FIRMS, WORKERS, PARTNERS = 2_000, 100_000, 60
PROVIDER_MIX = {OrganisationKind.SOCIAL_COOPERATIVE: 700, OrganisationKind.ASSOCIATION: 500, OrganisationKind.COWORKING_OPERATOR: 300}
PARTNER_MIX = [
    (OrganisationKind.PUBLIC_BODY, 10),
    (OrganisationKind.TRADE_UNION, 10),
    (OrganisationKind.EMPLOYERS_ASSOCIATION, 15),
    (OrganisationKind.UNIVERSITY, 5),
    (OrganisationKind.TRAINING_BODY, 20),
]
# Share of firms per size class, and the head-count range each class draws from.
SIZE_MIX = [
    (SizeClass.MICRO, 0.50, (2, 9)),
    (SizeClass.SMALL, 0.30, (10, 49)),
    (SizeClass.MEDIUM, 0.15, (50, 249)),
    (SizeClass.LARGE, 0.05, (250, 1500)),
]
SEED = 20261125
BATCH = 5_000
# Any value starting with "!" is an unusable password for Django; a fixed one keeps the data seeded.
UNUSABLE_PASSWORD = "!bench-unusable"
ROME = ZoneInfo("Europe/Rome")

# Milan's bounding box, and roughly its centre, for coordinates and for picking the Municipio.
LAT_RANGE, LON_RANGE = (45.40, 45.53), (9.08, 9.28)
CENTRE = (45.4642, 9.19)
CENTRE_RADIUS = 0.018  # degrees: about the area inside the Bastioni (Municipio 1)

PLACES = [
    "Lambrate", "Navigli", "Brera", "Isola", "Bicocca", "Niguarda", "Forlanini", "Barona", "Lorenteggio",
    "Baggio", "Gorla", "Greco", "Turro", "Crescenzago", "Vigentino", "Chiaravalle", "Gratosoglio",
    "Porta Romana", "Porta Venezia", "Città Studi", "San Siro", "Gallaratese", "Quarto Oggiaro", "Garibaldi",
    "Ticinese", "Sempione", "Bovisa", "Affori", "Corvetto", "Giambellino", "Dergano", "Precotto", "Rogoredo",
]
SURNAMES = [
    "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
    "Bruno", "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti",
    "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Ferrara", "Galli", "Martini", "Leone",
    "Longo", "Gentile", "Martinelli", "Vitale", "Lombardo", "Serra", "Coppola", "De Santis", "Marchetti",
    "Parisi", "Villa", "Conte", "Ferraro", "Ferri", "Fabbri", "Bianco", "Marini", "Grasso", "Valentini",
    "Messina", "Sala", "Brambilla", "Cattaneo", "Pellegrini", "Monti", "Riva", "Bassi", "Sartori", "Fumagalli",
]
FIRST_NAMES = [
    "Giulia", "Francesca", "Chiara", "Sara", "Martina", "Elena", "Valentina", "Alessia", "Federica", "Silvia",
    "Anna", "Laura", "Paola", "Marta", "Elisa", "Roberta", "Giorgia", "Ilaria", "Beatrice", "Camilla",
    "Marco", "Luca", "Andrea", "Matteo", "Alessandro", "Davide", "Francesco", "Lorenzo", "Simone", "Federico",
    "Stefano", "Giuseppe", "Paolo", "Riccardo", "Giovanni", "Tommaso", "Filippo", "Gabriele", "Nicola", "Pietro",
    "Amina", "Mohamed", "Yasmin", "Omar", "Wei", "Li", "Ana", "José", "Daniela", "Ivan",
]
STREETS = [
    "Via Padova", "Viale Monza", "Corso Buenos Aires", "Via Torino", "Corso di Porta Romana", "Viale Certosa",
    "Via Novara", "Viale Forlanini", "Via Ripamonti", "Viale Famagosta", "Via Lorenteggio", "Via dei Missaglia",
    "Viale Fulvio Testi", "Via Console Marcello", "Via Ornato", "Via Rombon", "Via Mecenate", "Viale Lombardia",
    "Via Giambellino", "Via Tortona", "Via Savona", "Viale Zara", "Via Farini", "Via Imbonati", "Via Rubattino",
]
FIRM_SECTORS = [
    ("Meccanica", "meccanica di precisione e manutenzione di impianti industriali"),
    ("Logistica", "logistica, magazzino e consegne nell'area metropolitana"),
    ("Trasporti", "trasporto merci e servizi di corriere espresso"),
    ("Servizi Informatici", "sviluppo software, consulenza informatica e assistenza tecnica"),
    ("Grafiche", "stampa, grafica e comunicazione per imprese ed enti"),
    ("Edilizia", "costruzioni, ristrutturazioni ed efficienza energetica degli edifici"),
    ("Alimentari", "produzione e distribuzione di prodotti alimentari"),
    ("Ristorazione", "ristorazione collettiva, mense aziendali e catering"),
    ("Consulenze", "consulenza del lavoro, contabilità e servizi amministrativi"),
    ("Farmaceutica", "ricerca e distribuzione di prodotti farmaceutici"),
    ("Moda", "design, confezione e vendita di abbigliamento"),
    ("Pulizie", "pulizie industriali, sanificazione e servizi di portineria"),
    ("Impianti", "impianti elettrici, termoidraulici e domotica"),
    ("Studio Tecnico", "progettazione architettonica e ingegneristica"),
    ("Commercio", "commercio all'ingrosso e al dettaglio"),
]
LEGAL_FORMS = ["Srl", "Srl", "Srl", "Spa", "Snc", "Sas", "Srls"]
WELFARE_OFFERS = [
    "smart working due giorni a settimana", "orari flessibili in entrata e in uscita", "welfare aziendale in rete",
    "convenzioni con i servizi per l'infanzia del quartiere", "contributi per i centri estivi dei figli",
    "sportello per l'assistenza ai familiari anziani", "postazioni in coworking vicino a casa",
    "banca delle ore e permessi per la cura", "buoni pasto e convenzioni con la mensa di quartiere",
]
PROVIDER_TEMPLATES = {
    OrganisationKind.SOCIAL_COOPERATIVE: (
        ["Cooperativa Sociale", "Società Cooperativa Sociale", "Coop. Sociale"],
        [
            "servizi per l'infanzia: nido, micronido e spazio gioco",
            "assistenza domiciliare agli anziani e ai familiari non autosufficienti",
            "doposcuola, centri estivi e campus per ragazzi",
            "baby sitting a domicilio e accompagnamento scolastico",
            "sostegno psicologico e consulenza familiare",
            "servizi di cura alla persona, badanti e custodi sociali",
            "inserimento lavorativo di persone svantaggiate",
        ],
    ),
    OrganisationKind.ASSOCIATION: (
        ["Associazione", "Associazione di Promozione Sociale", "Associazione Culturale"],
        [
            "sportello di orientamento e ascolto per le famiglie",
            "attività sportive per bambini, ragazzi e adulti",
            "corsi, laboratori e cultura nel quartiere",
            "volontariato e reti di vicinato per gli anziani",
            "mediazione culturale e corsi di lingua italiana",
            "consulenza legale e previdenziale per lavoratrici e lavoratori",
        ],
    ),
    OrganisationKind.COWORKING_OPERATOR: (
        ["Coworking", "Spazio Coworking", "Hub"],
        [
            "postazioni in coworking, sale riunioni e uffici privati",
            "coworking con spazio bimbi e servizio di baby sitting",
            "postazioni flessibili per lo smart working di quartiere",
            "coworking con laboratorio, sala eventi e caffetteria",
        ],
    ),
}
PARTNER_NAMES = {
    OrganisationKind.PUBLIC_BODY: ["ASST", "Azienda di Servizi alla Persona", "Agenzia Comunale", "Consorzio"],
    OrganisationKind.TRADE_UNION: ["Camera del Lavoro", "Sindacato Lavoratori", "Federazione"],
    OrganisationKind.EMPLOYERS_ASSOCIATION: ["Confartigianato", "Confcommercio", "Associazione Imprese"],
    OrganisationKind.UNIVERSITY: ["Università", "Politecnico", "Istituto Universitario"],
    OrganisationKind.TRAINING_BODY: ["Centro di Formazione", "Accademia", "Scuola Professionale"],
}
PARTNER_CONTRIBUTIONS = [
    "Promuove la conciliazione tra vita e lavoro presso i propri iscritti.",
    "Mette a disposizione sportelli informativi e orientamento sui servizi di welfare.",
    "Cura la formazione dei referenti aziendali sullo smart working.",
    "Valuta l'impatto della rete su tempi di vita, mobilità e benessere.",
]


def count(base: float, factor: float) -> int:
    return max(1, round(base * factor))


class Generator:
    def __init__(self, scale: str):
        self.factor = SCALES[scale]
        self.rng = random.Random(SEED)
        self.territory = None
        self.municipi: dict[int, Municipio] = {}
        self.serial = 0

    def run(self) -> dict[str, int]:
        self.create_territory()
        firms = self.firm_rows()
        organisations = [*self.partner_rows(), *firms, *self.provider_rows()]
        for start in range(0, len(organisations), BATCH):
            Organisation.objects.bulk_create(organisations[start : start + BATCH])
        workers = self.create_workers(firms)
        return {"organisations": len(organisations), "firms": len(firms), "workers": workers}

    def create_territory(self) -> None:
        self.territory = Territory.objects.create(**demo.TERRITORY)
        for number, name in demo.MUNICIPI:
            self.municipi[number] = Municipio.objects.create(territory=self.territory, number=number, name=name)

    def organisation(self, *, name: str, kind: str, role: str, description: str, **extra) -> Organisation:
        self.serial += 1
        rng = self.rng
        lat = rng.uniform(*LAT_RANGE)
        lon = rng.uniform(*LON_RANGE)
        located = rng.random() < 0.9
        street = rng.choice(STREETS)
        org = Organisation(
            territory=self.territory,
            name=name,
            slug=f"{slugify(name)[:100]}-{self.serial}",
            kind=kind,
            network_role=role,
            description=description,
            address=f"{street} {rng.randint(1, 220)}",
            postal_code=f"201{rng.randint(21, 62)}",
            city="Milano",
            municipio=self.municipi[municipio_at(lat, lon)] if located else None,
            latitude=Decimal(f"{lat:.6f}") if located else None,
            longitude=Decimal(f"{lon:.6f}") if located else None,
            email=f"info@{slugify(name)[:40]}-{self.serial}.example.org",
            joined_on=date(2020, 1, 1) + timedelta(days=rng.randint(0, 2200)),
            is_active=rng.random() < 0.97,
            **extra,
        )
        org.search_text = fold(org.build_search_text())
        return org

    def partner_rows(self) -> list[Organisation]:
        rows = [
            self.organisation(
                name="Comune di Milano",
                kind=OrganisationKind.PUBLIC_BODY,
                role=NetworkRole.LEAD,
                description="Capofila della rete territoriale di conciliazione vita-lavoro.",
            )
        ]
        for kind, base in PARTNER_MIX:
            for _ in range(count(base, self.factor)):
                role = NetworkRole.ATI_MEMBER if self.rng.random() < 0.15 else NetworkRole.PARTNER
                name = f"{self.rng.choice(PARTNER_NAMES[kind])} {self.rng.choice(PLACES)} {self.rng.choice(SURNAMES)}"
                rows.append(
                    self.organisation(
                        name=name,
                        kind=kind,
                        role=role,
                        description=f"{kind.label} partner della rete milanese. {self.rng.choice(PARTNER_CONTRIBUTIONS)}",
                        contribution=self.rng.choice(PARTNER_CONTRIBUTIONS),
                    )
                )
        return rows

    def firm_rows(self) -> list[Organisation]:
        rows = []
        for _ in range(count(FIRMS, self.factor)):
            size_class, head_count = self.size()
            sector, activity = self.rng.choice(FIRM_SECTORS)
            where = self.rng.choice(PLACES + SURNAMES)
            name = f"{sector} {where} {self.rng.choice(LEGAL_FORMS)}"
            offers = ", ".join(self.rng.sample(WELFARE_OFFERS, 2))
            description = f"Impresa di {activity} con {head_count} addetti. Offre {offers}."
            org = self.organisation(
                name=name,
                kind=OrganisationKind.FIRM,
                role=NetworkRole.MEMBER_FIRM,
                description=description,
                size_class=size_class,
            )
            org.head_count = head_count  # not a field: weights the workers drawn for this firm
            rows.append(org)
        return rows

    def size(self) -> tuple[str, int]:
        pick = self.rng.random()
        for size_class, share, (low, high) in SIZE_MIX:
            if pick < share:
                return size_class, self.rng.randint(low, high)
            pick -= share
        return SIZE_MIX[-1][0], SIZE_MIX[-1][2][0]

    def provider_rows(self) -> list[Organisation]:
        rows = []
        for kind, base in PROVIDER_MIX.items():
            prefixes, activities = PROVIDER_TEMPLATES[kind]
            for _ in range(count(base, self.factor)):
                name = f"{self.rng.choice(prefixes)} {self.rng.choice(PLACES + SURNAMES)} {self.rng.choice(SURNAMES)}"
                first, second = self.rng.sample(activities, 2)
                rows.append(
                    self.organisation(
                        name=name,
                        kind=kind,
                        role=NetworkRole.PROVIDER,
                        description=f"Offre {first}; inoltre {second}. Convenzioni per le imprese della rete.",
                        contribution=f"Tariffe agevolate per i lavoratori delle imprese aderenti: {first}.",
                    )
                )
        return rows

    def create_workers(self, firms: list[Organisation]) -> int:
        total = count(WORKERS, self.factor)
        employers = self.rng.choices(firms, weights=[f.head_count for f in firms], k=total)
        first_user_id = next_id(User)
        first_role_id = next_id(Role)
        joined = datetime(2021, 1, 1, tzinfo=ROME)
        users, roles = [], []
        for n, firm in enumerate(employers):
            first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(SURNAMES)
            email = f"{slugify(first)}.{slugify(last)}.{n}@lavoro.example.org"
            when = joined + timedelta(minutes=n)
            users.append((first_user_id + n, email, UNUSABLE_PASSWORD, first, last, False, False, True, when, ""))
            roles.append((first_role_id + n, first_user_id + n, Role.Kind.WORKER.value, self.territory.pk, firm.pk, when))
        user_columns = [
            "id", "email", "password", "first_name", "last_name", "is_superuser", "is_staff", "is_active", "date_joined",
            "language",  # blank: the site's own language (core.mail.recipient_language)
        ]
        insert_rows(User, user_columns, users)
        insert_rows(Role, ["id", "user_id", "kind", "territory_id", "organisation_id", "created_at"], roles)
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [User, Role]):
                cursor.execute(sql)
        return total


def next_id(model) -> int:
    return (model.objects.aggregate(last=Max("pk"))["last"] or 0) + 1


def insert_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """Insert many rows with explicit ids: COPY on PostgreSQL, a prepared statement on SQLite.

    Workers are 95% of the rows and bulk_create spends most of its time building Python-side SQL;
    COPY loads 100,000 users in about a second.
    """
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            value_markers = ", ".join(["%s"] * len(columns))
            for start in range(0, len(rows), BATCH):
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({value_markers})", rows[start : start + BATCH]
                )


def municipio_at(lat: float, lon: float) -> int:
    """Municipio 1 is the centre; 2-9 go round it clockwise from the north-east, as on the map."""
    dy, dx = lat - CENTRE[0], (lon - CENTRE[1]) * math.cos(math.radians(CENTRE[0]))
    if math.hypot(dx, dy) < CENTRE_RADIUS:
        return 1
    bearing = (math.degrees(math.atan2(dx, dy)) + 360 - 22.5) % 360  # 0° = north-north-east
    return 2 + int(bearing // 45)


def record_scale(scale: str) -> None:
    """Leave the scale in the database so `run.py --keep-data` can tell whether the data fits."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bench_dataset (scale varchar(1) NOT NULL, seed integer NOT NULL)")
        cursor.execute("INSERT INTO bench_dataset (scale, seed) VALUES (%s, %s)", [scale, SEED])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=sorted(SCALES), default="M")
    args = parser.parse_args()

    started = time.monotonic()
    with transaction.atomic():
        counts = Generator(args.scale).run()
        counts.update(welfare_data.generate(args.scale))
        record_scale(args.scale)
    welfare_data.settle_tables()
    elapsed = time.monotonic() - started
    summary = " ".join(f"{k}={v}" for k, v in counts.items())
    print(f"generated scale={args.scale} {summary} in {elapsed:.1f}s", flush=True)


if __name__ == "__main__":
    main()
