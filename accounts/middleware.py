from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from .permissions import needs_two_factor

# Paths a coordinator without TOTP may still reach: the pages that set it up, sign out, language.
ALLOWED_PREFIXES = ("/account/", "/i18n/", "/static/", "/media/", "/api/")


class RequireTwoFactorMiddleware:
    """Coordinators (and admin staff) must activate TOTP before they can do anything else."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(ALLOWED_PREFIXES)
            and needs_two_factor(user)
            and not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
        ):
            messages.warning(
                request,
                _("Per il tuo ruolo l'autenticazione a due fattori è obbligatoria: attivala per continuare."),
            )
            return redirect(reverse("mfa_activate_totp") + "?" + urlencode({"next": request.get_full_path()}))
        return self.get_response(request)


