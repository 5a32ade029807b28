"""The load scenarios: a name and the requests its clients send, in rotation.

Each client goes round the list, starting at a different place. `{seq}` in a path, header or body is
replaced by a value unique to that request, in this run and every other (a random token of the run,
the wrk thread or Python client id, a counter, with dashes), so a POST scenario can send bodies and
Idempotency-Keys that never collide, not even with a warm-up's or an earlier run's on kept data, e.g.
`Request("/api/v1/...", method="POST", body='{"email": "w{seq}@example.org"}', headers=JSON)`.

A scenario with `fixture="wallets"` (welfare_spend) gets its requests from `welfare_spend_requests`
once run.py knows the data; afterwards run.py counts overdrafts and runs the ledger's proof.

A scenario with `fixture="event"` writes to one event: run.py creates a fresh published event before
the warm-up and another before the measured run (bench/fixtures.py), puts its id where a path says
`{event}`, and afterwards counts that event's registrations (see bench/README.md).
"""

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    path: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass(frozen=True)
class Scenario:
    name: str
    requests: list[Request]
    description: str = ""
    # "event": the requests write to one fresh event created for each run; see run.py.
    fixture: str = ""


TERRITORY = "milano"
HTMX = {"HX-Request": "true"}
JSON = {"Content-Type": "application/json"}


def uncached(path: str) -> str:
    """The path with a parameter unique to each request, which the views ignore.

    Anonymous public pages are cached for a minute under their full URL (core/cache.py). A scenario
    that goes round a few dozen URLs would then measure the cache; people's search texts are far
    more varied. A unique parameter makes every request a miss: the cost of the search itself.
    """
    return path + ("&" if "?" in path else "?") + "bench={seq}"


def directory_requests(*, cached: bool) -> list[Request]:
    """What people do on the directory: open it, search words, filter, page through results.

    Filter and search changes go through htmx (the form's hx-get swaps the results fragment); the
    landing page, pagination links and shared search links are full page loads.
    """
    base = f"/{TERRITORY}/organizzazioni/"
    full_pages = [
        "",
        "",
        "",
        "?page=2",
        "?page=7",
        "?page=40",
        "?page=150",
        "?q=cooperativa",
        "?q=servizi+infanzia",
        "?kind=firm&municipio=3",
        "?role=provider&municipio=8&page=2",
        "?q=coworking&municipio=9",
    ]
    htmx_fragments = [
        "?q=cooperativa",
        "?q=cooperative+sociali",
        "?q=assistenza+anziani",
        "?q=servizi+infanzia",
        "?q=coworking",
        "?q=logistica",
        "?q=meccanica",
        "?q=baby+sitting",
        "?q=smart+working",
        "?q=centri+estivi",
        "?q=Navigli",
        "?q=Brambilla",
        "?q=welfare+aziendale",
        "?q=spazio+bimbi",
        "?kind=firm",
        "?kind=social_coop",
        "?kind=coworking",
        "?kind=association",
        "?role=provider",
        "?role=partner",
        "?municipio=1",
        "?municipio=4",
        "?municipio=6",
        "?municipio=7",
        "?kind=social_coop&municipio=2",
        "?kind=firm&role=member_firm&municipio=5",
        "?q=infanzia&role=provider",
        "?q=consulenza+lavoro&kind=association",
        "?q=assistenza&municipio=3&page=2",
        "?kind=firm&page=3",
    ]
    path = (lambda p: p) if cached else uncached
    return [Request(path(base + query)) for query in full_pages] + [
        Request(path(base + query), headers=HTMX) for query in htmx_fragments
    ]


def directory_map_requests() -> list[Request]:
    """The map's markers, which every full directory page fetches for its current filters."""
    base = f"/{TERRITORY}/organizzazioni/mappa.json"
    queries = ["", "", "?q=cooperativa", "?kind=firm&municipio=3", "?role=provider", "?q=coworking&municipio=9"]
    return [Request(uncached(base + query)) for query in queries]


def registration_rush_requests() -> list[Request]:
    """The minute a large event opens: everyone registers at once through the public API.

    One request, `POST /api/v1/events/{event}/registrations`, with a unique email per request (what
    a crowd sends: no retries, no Idempotency-Key, no cookies). The body fills what the web form
    asks of most people: name, email, organisation and role, the privacy acknowledgement, the
    newsletter opt-in. The event has no questions, so `answers` is empty. Seats go first; once the
    event is full the rest lands on the waiting list, and both paths are measured.
    """
    body = json.dumps(
        {
            "first_name": "Giulia",
            "last_name": "Brambilla",
            "email": "lavoratrice.{seq}@example.org",
            "organisation_name": "Cooperativa Sociale Spazio Bimbi Navigli",
            "role_title": "Responsabile del personale",
            "newsletter_opt_in": True,
            "privacy_acknowledged": True,
            "answers": {},
        }
    )
    return [Request("/api/v1/events/{event}/registrations", method="POST", headers=JSON, body=body)]


# The API key of bench worker n (bench/welfare_data.py stores it hashed).
BENCH_TOKEN = "mire_bench-worker-{n}"


def welfare_spend_requests(*, wallets: int, services: list[int]) -> list[Request]:
    """Workers spend their credit through the API, each with their own token and wallet.

    Request n is worker n buying one of the catalogue's services (not fringe benefits, whose yearly
    threshold would refuse most purchases), with a fresh `Idempotency-Key`, as a till app or the
    workers' phones would send. bench/fixtures.py says how many wallets there are and which services.
    """
    return [
        Request(
            "/api/v1/welfare/orders",
            method="POST",
            headers={**JSON, "Authorization": f"Bearer {BENCH_TOKEN.format(n=n)}", "Idempotency-Key": "spend-{seq}"},
            body=json.dumps({"service": services[n % len(services)]}),
        )
        for n in range(wallets)
    ]


def catalogue_search_requests() -> list[Request]:
    """The catalogue searched through the public API: words, a category, a place to sort by distance."""
    base = f"/api/v1/welfare/services?territory={TERRITORY}"
    near = ["&lat=45.4642&lon=9.1900", "&lat=45.4850&lon=9.2270", "&lat=45.4480&lon=9.1500", "&lat=45.5100&lon=9.1900"]
    queries = [
        "", "&q=doposcuola", "&q=assistenza+anziani", "&q=yoga", "&q=abbonamento", "&q=centro+estivo",
        "&category=f_bis", "&category=f_ter", "&category=f", "&category=d_bis",
        "&q=baby+sitting&category=f_bis", "&q=piscina&category=f", "&q=navigli", "&q=lambrate&category=f_bis",
        "&category=f_bis&municipio=3", "&category=f_ter&municipio=7", "&delivery=at_home&category=f_ter",
        "&q=palestra&page=2", "&category=f&page=3",
    ]
    return [Request(base + query + near[n % len(near)] * (n % 3 != 2)) for n, query in enumerate(queries)]


# Ceiling first: the other scenarios are reported as a ratio of it.
SCENARIOS = {
    scenario.name: scenario
    for scenario in [
        Scenario("ceiling", [Request("/healthz")], "one indexed SELECT through the full middleware stack"),
        Scenario("directory_search", directory_requests(cached=False), "directory, every request a cache miss"),
        Scenario("directory_cached", directory_requests(cached=True), "the same URLs, served from the page cache"),
        Scenario("directory_map", directory_map_requests(), "the directory map's JSON markers, cache misses"),
        Scenario(
            "registration_rush",
            registration_rush_requests(),
            "registrations for one large event through the API, seats then waiting list",
            fixture="event",
        ),
        # Its requests depend on the data (how many wallets, which services): run.py builds them.
        Scenario("welfare_spend", [], "workers buying services with their wallets through the API", fixture="wallets"),
        Scenario("catalogue_search", catalogue_search_requests(), "catalogue API: text, category, nearest first"),
    ]
}
