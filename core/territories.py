"""Every territory-scoped URL starts with the territory's slug; this resolves it once."""

from functools import wraps

from django.http import Http404

from .cache import public_data
from .models import Territory

SLUG_MAX_LENGTH = Territory._meta.get_field("slug").max_length


def territory_view(view):
    """Resolve `territory` (a slug in the URL) to `request.territory`, or answer 404."""

    @wraps(view)
    def wrapper(request, territory: str, *args, **kwargs):
        request.territory = active_territory(request, territory)
        return view(request, *args, **kwargs)

    return wrapper


def active_territory(request, slug: str) -> Territory:
    """The active territory of that slug, or 404.

    Every page of a territory reads it first: it comes from the shared cache under the public-pages
    version, which saving or deleting a territory bumps (network/signals.py). A change made without
    signals (QuerySet.update) shows within the cache's minute, as for whole pages.
    """
    if len(slug) > SLUG_MAX_LENGTH:
        raise Http404
    territory = public_data(
        request, f"territory:{slug}", lambda: Territory.objects.filter(slug=slug, is_active=True).first()
    )
    if territory is None:
        raise Http404
    return territory
