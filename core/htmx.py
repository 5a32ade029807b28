"""Which answer an htmx request wants: one URL serves a page and its fragment (STYLE.md)."""

from django.http import HttpRequest


def wants_fragment(request: HttpRequest) -> bool:
    """An htmx swap wants the fragment; going Back to a page htmx no longer keeps, it asks again with
    HX-History-Restore-Request and puts the answer in place of the whole body: that needs the page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.history_restore_request
