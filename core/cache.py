"""Whole-page caching of public pages for anonymous visitors.

The directory, organisation pages, news and static pages are the same for every anonymous visitor
in one language, and cost tens of milliseconds to render. They are kept in the shared cache for a
minute, under a version number that any change to their content bumps (see the `signals` modules),
so an edit shows at once. Signed-in people, pending flash messages and any response that sets a
cookie (a CSRF token, a session) are never cached or served from the cache.

Parts of pages that many different pages repeat (a directory's result cards) are kept the same way,
per language, by `fragments()`: a search text nobody typed before still finds most of its cards
rendered.
"""

import hashlib
from collections.abc import Callable, Hashable
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

from .htmx import wants_fragment

VERSION_KEY = "public-pages:version"
TIMEOUT = 60
# Fragments are keyed by what they show (an organisation's id and last change); the version catches
# the rest (a Municipio renamed). The timeout only bounds what neither sees, e.g. a new translation.
FRAGMENT_TIMEOUT = 600


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, timeout=None)


def bump_public_pages(**kwargs) -> None:
    """Invalidate every cached public page (a signal receiver, or call it after a change).

    Bumped at once and again after the commit: a page rendered in between, from rows read before
    the change committed, was stored under the first new version and must not outlive the commit.
    """
    _bump()
    transaction.on_commit(_bump)


def _version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return version


def public_pages_version(request) -> int:
    """The version of public content, read once per request and before the request reads any rows.

    Reading it first matters: what is rendered from rows read afterwards is stored under a version
    no newer than those rows, so a change in between leaves the stored copy outdated, never current.
    """
    version = getattr(request, "public_pages_version", None)
    if version is None:
        version = request.public_pages_version = _version()
    return version


def public_data(request, name: str, build: Callable[[], Any]) -> Any:
    """Small data that pages read on every request (a territory, its Municipi), from the shared cache
    while the public-pages version is the one it was stored under, so a change through the models
    shows at once. One cache round trip, the version included when the request has not read it yet.
    `build` returning None (nothing found) is not stored."""
    key = f"public-data:{name}"
    if getattr(request, "public_pages_version", None) is None:
        found = cache.get_many([VERSION_KEY, key])
        request.public_pages_version = found.get(VERSION_KEY) or _version()
        stored = found.get(key)
    else:
        stored = cache.get(key)
    if stored is not None and stored[0] == request.public_pages_version:
        return stored[1]
    value = build()
    if value is not None:
        cache.set(key, (request.public_pages_version, value), TIMEOUT)
    return value


def fragments(request, name: str, items: dict[Hashable, Any], render: Callable[[Any], str]) -> dict[Hashable, str]:
    """The HTML of each item, from the shared cache if stored under the current version, else rendered.

    `items` maps a key that changes whenever the item's HTML would (e.g. id and last change) to the
    item; the language is added to it. One cache round trip reads every fragment (get_many) and one
    stores the missing ones. The HTML is stored as rendered (escaped): the caller marks it safe.
    """
    version = public_pages_version(request)
    language = get_language() or ""
    keys = {key: f"fragment:{name}:{language}:{key}" for key in items}
    stored = cache.get_many(list(keys.values()))
    html, missing = {}, {}
    for key, cache_key in keys.items():
        found = stored.get(cache_key)
        if found is not None and found[0] == version:
            html[key] = found[1]
        else:
            html[key] = missing[cache_key] = render(items[key])
    if missing:
        cache.set_many({k: (version, v) for k, v in missing.items()}, FRAGMENT_TIMEOUT)
    return html


def public_page(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        cacheable = (
            request.method in ("GET", "HEAD")
            and "messages" not in request.COOKIES
            and not request.user.is_authenticated
        )
        if not cacheable:
            return view(request, *args, **kwargs)
        # Hashed: a query string can be long, and cache keys are not (250 bytes for memcached).
        path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
        key = ":".join(
            [
                "public-page",
                str(public_pages_version(request)),
                get_language() or "",
                "htmx" if wants_fragment(request) else "page",
                path,
            ]
        )
        response = cache.get(key)
        if response is not None:
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.cookies and not getattr(response, "streaming", False):
            if hasattr(response, "render") and not response.is_rendered:
                response.render()
            patch_vary_headers(response, ["Accept-Language", "Cookie"])
            cache.set(key, response, TIMEOUT)
        return response

    return wrapper
