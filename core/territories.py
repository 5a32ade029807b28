"""Every territory-scoped URL starts with the territory's slug; this resolves it once."""

from functools import wraps

from django.shortcuts import get_object_or_404

from .models import Territory


def territory_view(view):
    """Resolve `territory` (a slug in the URL) to `request.territory`, or answer 404."""

    @wraps(view)
    def wrapper(request, territory: str, *args, **kwargs):
        request.territory = get_object_or_404(Territory, slug=territory, is_active=True)
        return view(request, *args, **kwargs)

    return wrapper
