from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.utils.translation import gettext_lazy as _

from core.mail import keep_and_send


class AccountAdapter(DefaultAccountAdapter):
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
