"""The Milan demo network: the real MIRE alliance (2020-2023) plus a few invented member firms.

Facts about the alliance come from the announcement of its final event (28 November 2023). Only
addresses we are sure of are filled in; the invented firms are marked as such in their description.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

ROME = ZoneInfo("Europe/Rome")

TERRITORY = {
    "slug": "milano",
    "name": "Milano",
    "region": "Lombardia",
    "network_name": "MIRE – Milano in rete",
    "network_motto": "dal welfare al tempo ritrovato",
    "description": (
        "Dal 2020 il Comune di Milano guida un'alleanza locale di circa quaranta organizzazioni – imprese, "
        "cooperative sociali, associazioni datoriali, sindacati, università – che lavora per la conciliazione "
        "tra vita e lavoro: più smart working fatto bene, più coworking vicino a casa, un welfare aziendale "
        "che anche le piccole imprese possono offrire mettendosi in rete."
    ),
    "center_latitude": "45.464200",
    "center_longitude": "9.190000",
    "description_en": (
        "Since 2020 the City of Milan has led a local alliance of some forty organisations – firms, social "
        "cooperatives, employers' associations, trade unions, a university – working for a better balance "
        "between life and work: smart working done well, coworking near home, and company welfare that small "
        "firms too can offer by joining forces."
    ),
    "contact_email": "mire@comune.milano.example.org",
    "data_controller": "Comune di Milano",
    "dpo_email": "rpd@comune.milano.example.org",
}

MUNICIPI = [
    (1, "Municipio 1 – Centro storico"),
    (2, "Municipio 2 – Stazione Centrale, Gorla, Turro, Greco, Crescenzago"),
    (3, "Municipio 3 – Città Studi, Lambrate, Venezia"),
    (4, "Municipio 4 – Vittoria, Forlanini"),
    (5, "Municipio 5 – Vigentino, Chiaravalle, Gratosoglio"),
    (6, "Municipio 6 – Barona, Lorenteggio"),
    (7, "Municipio 7 – Baggio, De Angeli, San Siro"),
    (8, "Municipio 8 – Fiera, Gallaratese, Quarto Oggiaro"),
    (9, "Municipio 9 – Stazione Garibaldi, Niguarda"),
]

# (name, slug, kind, network role, extra fields)
# The network formed in June 2020 (Piano Territoriale di Conciliazione 2020-2022); the invented
# member firms and providers of the demo joined it later.
ALLIANCE_JOINED_ON = date(2020, 6, 1)
DEMO_MEMBERS_JOINED_ON = date(2022, 3, 1)

ALLIANCE = [
    ("Comune di Milano", "comune-di-milano", "public_body", "lead", {
        "description": "Capofila dell'alleanza locale di conciliazione: coordina la rete, i suoi eventi e la valutazione dei risultati.",
        "tax_code": "01199250158", "vat_number": "01199250158",
        "address": "Piazza della Scala 2", "postal_code": "20121", "city": "Milano", "municipio": 1,
        "latitude": "45.467200", "longitude": "9.189900", "website": "https://www.comune.milano.it",
    }),
    ("ABCittà Coop Sociale", "abcitta", "social_coop", "ati_member", {
        "description": "Cooperativa sociale dell'ATI per il welfare in rete; gestisce uno degli sportelli della Cittadella del welfare.",
    }),
    ("AFOL Metropolitana", "afol-metropolitana", "training", "partner", {
        "description": "Agenzia metropolitana per la formazione, l'orientamento e il lavoro.",
    }),
    ("AICQ Centronord – Associazione Italiana Cultura Qualità Centronord", "aicq-centronord", "association", "partner", {}),
    ("API – Associazione Piccole e Medie Industrie", "api-associazione-piccole-medie-industrie", "employers", "partner", {
        "description": "Associazione delle piccole e medie industrie: porta nella rete la voce delle PMI.",
    }),
    ("Assolombarda", "assolombarda", "employers", "partner", {
        "description": "Associazione delle imprese dell'area milanese.",
        "address": "Via Pantano 9", "postal_code": "20122", "city": "Milano", "municipio": 1,
        "latitude": "45.459500", "longitude": "9.192500", "website": "https://www.assolombarda.it",
    }),
    ("ASP IMMeS e PAT", "asp-immes-e-pat", "public_body", "partner", {
        "description": "Azienda di servizi alla persona.",
    }),
    ("Piano C Associazione", "piano-c", "association", "ati_member", {
        "description": "Associazione dell'ATI per il welfare in rete, attiva su lavoro e conciliazione.",
    }),
    ("Cooperativa Sociale Eureka! – Soc. Coop. a R.L.", "eureka", "social_coop", "ati_member", {
        "description": "Cooperativa sociale dell'ATI per il welfare in rete.",
    }),
    ("Equa Cooperativa Sociale", "equa", "social_coop", "ati_member", {
        "description": "Cooperativa sociale dell'ATI per il welfare in rete.",
    }),
    ("Il Melograno – Società Cooperativa Sociale Onlus", "il-melograno", "social_coop", "partner", {}),
    ("Lo Scrigno – Società Cooperativa Sociale Onlus", "lo-scrigno", "social_coop", "ati_member", {
        "description": "Cooperativa sociale dell'ATI per il welfare in rete.",
    }),
    ("Telefono Donna Associazione", "telefono-donna", "association", "partner", {}),
    ("UIL Milano e Lombardia", "uil-milano-lombardia", "trade_union", "partner", {}),
    ("Università degli Studi di Milano – Bicocca", "universita-milano-bicocca", "university", "partner", {
        "address": "Piazza dell'Ateneo Nuovo 1", "postal_code": "20126", "city": "Milano", "municipio": 9,
        "latitude": "45.513700", "longitude": "9.211000", "website": "https://www.unimib.it",
    }),
    ("CISL Milano Metropoli", "cisl-milano-metropoli", "trade_union", "partner", {}),
    ("CGIL Camera del Lavoro Metropolitana di Milano", "cgil-camera-del-lavoro-milano", "trade_union", "partner", {
        "address": "Corso di Porta Vittoria 43", "postal_code": "20122", "city": "Milano", "municipio": 1,
        "latitude": "45.460500", "longitude": "9.205500",
    }),
]

DEMO_NOTE = " (Organizzazione dimostrativa, inventata per la demo.)"

DEMO_MEMBERS = [
    ("Officine Lambrate Srl", "officine-lambrate", "firm", "member_firm", {
        "size_class": "small", "description": "Piccola impresa meccanica che offre il welfare ai suoi 30 addetti tramite il piano di rete." + DEMO_NOTE,
        "address": "Via Rombon 11", "postal_code": "20134", "city": "Milano", "municipio": 3,
        "latitude": "45.487800", "longitude": "9.240100", "vat_number": "01234560157", "tax_code": "01234560157",
    }),
    ("Studio Grafico Navigli Snc", "studio-grafico-navigli", "firm", "member_firm", {
        "size_class": "micro", "description": "Studio di sette persone che lavora per metà in smart working." + DEMO_NOTE,
        "address": "Alzaia Naviglio Grande 40", "postal_code": "20144", "city": "Milano", "municipio": 6,
        "latitude": "45.451900", "longitude": "9.170800",
    }),
    ("Logistica Forlanini Spa", "logistica-forlanini", "firm", "member_firm", {
        "size_class": "medium", "description": "Impresa di logistica con 180 addetti su due turni." + DEMO_NOTE,
        "address": "Viale Forlanini 120", "postal_code": "20134", "city": "Milano", "municipio": 4,
        "latitude": "45.461200", "longitude": "9.245600",
    }),
    ("Spazio Comune Niguarda", "spazio-comune-niguarda", "coworking", "provider", {
        "description": "Coworking di quartiere con 24 postazioni e un'area per bambini." + DEMO_NOTE,
        "address": "Via Hermada 8", "postal_code": "20162", "city": "Milano", "municipio": 9,
        "latitude": "45.518300", "longitude": "9.192600",
    }),
]

DEMO_PASSWORD = "MireDemo-2026"

# (email, first name, last name, role kind, organisation slug or None for the territory)
PERSONAS = [
    ("coordinatore@mire.example.org", "Chiara", "Colombo", "coordinator", None),
    ("admin@officine-lambrate.example.org", "Marco", "Brambilla", "org_admin", "officine-lambrate"),
    ("staff@officine-lambrate.example.org", "Laura", "Galli", "org_staff", "officine-lambrate"),
    ("lavoratore@officine-lambrate.example.org", "Paolo", "Fumagalli", "worker", "officine-lambrate"),
    ("fornitore@equa.example.org", "Sara", "Ferrari", "provider_staff", "equa"),
    ("sportello@abcitta.example.org", "Giulia", "Villa", "helpdesk", "abcitta"),
]

ARTICLE = {
    "slug": "evento-finale-mire-28-novembre-2023",
    "title": "Il welfare in rete fa il punto: l'evento finale di MIRE il 28 novembre",
    "title_en": "Networked welfare takes stock: MIRE's final event on 28 November",
    "summary": (
        "Martedì 28 novembre 2023, dalle 9.30 alle 15.30, la rete MIRE si ritrova al Luiss Hub Milano per "
        "valutare tre anni di lavoro sulla conciliazione vita-lavoro e immaginare i prossimi. Ingresso libero con iscrizione."
    ),
    "summary_en": (
        "On Tuesday 28 November 2023, 9:30-15:30, the MIRE network meets at Luiss Hub Milano to assess three years "
        "of work-life-balance projects and plan what comes next. Free entry with registration."
    ),
    "published_at": datetime(2023, 11, 10, 9, 0, tzinfo=ROME),
    "body": """Nel giugno 2020, con i fondi delle Reti Territoriali di Conciliazione di Regione Lombardia, il Comune di Milano ha riunito intorno a sé circa quaranta organizzazioni del territorio: imprese, cooperative sociali, associazioni, sindacati e università. Insieme hanno lavorato su tre fronti – lo smart working, l'uso dei coworking cittadini e un welfare aziendale costruito in rete – e, per quest'ultimo, cinque cooperative sociali hanno dato vita a un'Associazione Temporanea di Imprese che informa e accompagna le aziende.

## Il programma

**"I vantaggi del welfare in rete: una scelta strategica di impatto"** – martedì 28 novembre 2023, ore 9.30-15.30, Luiss Hub Milano, Sala Vetri, Via D'Azeglio 3.

- **Mattina**: esperienze di conciliazione a confronto, il racconto del percorso che ha dato forma al modello MIRE e i primi risultati della ricerca su di esso, presentati da Percorsi di secondo welfare. Intervengono le associazioni delle imprese, i sindacati milanesi, le cooperative della Cittadella del welfare.
- **Pomeriggio – Laboratorio di idee**: tavoli di lavoro aperti a partner e organizzazioni interessate su tre temi: come portare in altri territori ciò che Milano ha sperimentato, il welfare in rete, le politiche di Diversity & Inclusion. Le idee raccolte serviranno al nuovo Piano Territoriale di Conciliazione regionale.

## Perché partecipare

Per una piccola impresa il welfare aziendale da sola è spesso fuori portata; in rete diventa sostenibile e resta sul territorio. L'incontro serve a misurare cosa ha funzionato e a far entrare nuove voci nella rete.

La partecipazione è gratuita, con iscrizione obbligatoria.""",
    "body_en": """In June 2020, with funding from Regione Lombardia's Territorial Work-Life Balance Networks, the Comune di Milano brought together about forty local organisations: firms, social cooperatives, associations, trade unions and a university. Together they worked on three fronts – smart working, the use of the city's coworking spaces and corporate welfare built as a network – and, for the latter, five social cooperatives formed a temporary association of firms that informs and supports companies.

## Programme

**"The advantages of networked welfare: a strategic choice with impact"** – Tuesday 28 November 2023, 9:30-15:30, Luiss Hub Milano, Sala Vetri, Via D'Azeglio 3.

- **Morning**: work-life-balance experiences compared, the story of how the MIRE model took shape, and the first findings of research on it by Percorsi di secondo welfare.
- **Afternoon – Ideas lab**: working tables on transferring Milan's experience to other territories, networked welfare, and Diversity & Inclusion.

Attendance is free, with registration.""",
}
