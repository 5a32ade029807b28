from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.http import JsonResponse
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




class ApiErrorsAsJsonMiddleware:
    """Under /api/, the answers Django gives before any API view runs (no such address: 404; an
    address without that method: 405) in the API's shape {code, message, fields}, not as HTML pages."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code in (404, 405)
            and request.path.startswith("/api/")
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            from .api import HTTP_ERROR_CODES, http_error_message

            answer = JsonResponse(
                {"code": HTTP_ERROR_CODES[response.status_code], "message": http_error_message(response.status_code),
                 "fields": {}},
                status=response.status_code,
            )
            if response.has_header("Allow"):
                answer["Allow"] = response["Allow"]
            return answer
        return response
