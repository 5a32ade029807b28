"""Whole-page caching of public pages for anonymous visitors.

The directory, organisation pages, news and static pages are the same for every anonymous visitor
in one language, and cost tens of milliseconds to render. They are kept in the shared cache for a
minute, under a version number that any change to their content bumps (see the `signals` modules),
so an edit shows at once. Signed-in people, pending flash messages and any response that sets a
cookie (a CSRF token, a session) are never cached or served from the cache.
"""

import hashlib
from functools import wraps

from django.core.cache import cache
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language

VERSION_KEY = "public-pages:version"
TIMEOUT = 60


def bump_public_pages(**kwargs) -> None:
    """Invalidate every cached public page (a signal receiver, or call it after a change)."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, timeout=None)


def _version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return version


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
        key = ":".join([
            "public-page", str(_version()), get_language() or "", "htmx" if getattr(request, "htmx", False) else "page",
            path,
        ])
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
