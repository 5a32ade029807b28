from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.mail import keep_and_send

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _lockout_minutes() -> int:
    """The longest period of the failed-login limits, in whole minutes: "30/m/ip,5/5m/key" gives 5.

    allauth's rate syntax: amount/period[/key], a period being an optional number and s, m, h or d.
    """
    rules = (settings.ACCOUNT_RATE_LIMITS or {}).get("login_failed", "")
    seconds = []
    for rule in rules.split(","):
        parts = rule.strip().split("/")
        period = parts[1] if len(parts) > 1 else ""
        if period[-1:] in UNIT_SECONDS:
            seconds.append(int(period[:-1] or 1) * UNIT_SECONDS[period[-1]])
    return max(1, -(-max(seconds, default=60) // 60))


class AccountAdapter(DefaultAccountAdapter):
    def validation_error(self, code, *args) -> ValidationError:
        if code == "too_many_login_attempts":
            # allauth says only "try again later": people kept trying, and every try extended the wait.
            return ValidationError(
                _("Troppi tentativi di accesso non riusciti: per proteggere l'account l'accesso è sospeso per "
                  "qualche minuto (al massimo %(minutes)s). Riprova più tardi, oppure reimposta la password se "
                  "non la ricordi.") % {"minutes": _lockout_minutes()},
                code=code,
            )
        return super().validation_error(code, *args)

    def is_open_for_signup(self, request) -> bool:
        # Accounts are created when the coordinator approves an organisation, or by an
        # organisation for its people; there is no public sign-up.
        return False

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # allauth's mails go as ours do: a web copy, the background worker (core.mail.keep_and_send).
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request),
               "site_url": settings.SITE_URL, **context}
        keep_and_send(self.render_mail(template_prefix, email, ctx))


class MFAAdapter(DefaultMFAAdapter):
    # allauth refuses a code used a moment ago (a replay) with the same words as a mistyped one, so as
    # to tell an attacker nothing; people typing a code they just used were told it was wrong.
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "incorrect_code": _("Codice errato o già usato: ogni codice vale una volta sola. Attendi il codice "
                            "successivo dell'app e riprova."),
    }
