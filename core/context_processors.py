from django.conf import settings

from accounts.permissions import is_coordinator

from .models import Territory


def site(request):
    territory = getattr(request, "territory", None)
    if territory is None and request.resolver_match and not request.path.startswith("/admin/"):
        # Pages outside a territory (static pages, sign-in) keep the default network's navigation.
        territory = Territory.objects.filter(slug=settings.DEFAULT_TERRITORY, is_active=True).first()
    return {
        "territory": territory,
        "is_coordinator": is_coordinator(request.user, territory) if territory else False,
        "SITE_URL": settings.SITE_URL,
    }
