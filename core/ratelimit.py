"""Per-client rate limits for public write endpoints, kept in the shared cache.

A fixed window per (scope, client address), or per any other subject: simple, and shared by every
app server through Redis.
`RATELIMIT_ENABLED=false` lifts every limit (benchmarks and load tests).
"""

import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def client_address(request: HttpRequest) -> str:
    # X-Forwarded-For is whatever the client wrote, except its last entry when our own proxy
    # (BEHIND_PROXY) appended it: that one is the address the proxy saw.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.SECURE_PROXY_SSL_HEADER and forwarded:
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def retry_after(request: HttpRequest, *, scope: str, limit: int, period: int) -> int | None:
    """Count this request; return the seconds to wait when over `limit` per `period`, else None."""
    return retry_after_for(f"{scope}:{client_address(request)}", limit=limit, period=period)


def retry_after_for(subject: str, *, limit: int, period: int) -> int | None:
    """The same limit for something else than a client address (one registration's mails, say)."""
    if not settings.RATELIMIT_ENABLED:
        return None
    window = int(time.time()) // period
    key = f"rl:{subject}:{window}"
    # add() is atomic: it creates the counter only if no other request did first.
    if cache.add(key, 1, timeout=period + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=period + 1)
            count = 1
    if count <= limit:
        return None
    return period - int(time.time()) % period or 1


def too_many_requests(request: HttpRequest, *, wait: int) -> HttpResponse:
    """The 429 page: try again in `wait` seconds (said in minutes, sent as Retry-After)."""
    response = render(request, "429.html", {"retry_after_minutes": max(1, math.ceil(wait / 60))}, status=429)
    response["Retry-After"] = str(wait)
    return response
