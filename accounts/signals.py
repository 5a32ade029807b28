"""Housekeeping on sign-in and password reset."""

from allauth.account.models import EmailAddress
from allauth.account.signals import password_reset
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation


@receiver(user_logged_in, dispatch_uid="accounts.remember_language")
def remember_language_on_login(sender, request, user, **kwargs) -> None:
    # The language the page was in when they signed in (their cookie, else their browser's).
    user.remember_language(getattr(request, "LANGUAGE_CODE", None) or translation.get_language())


@receiver(password_reset, dispatch_uid="accounts.verify_address_on_password_reset")
def verify_address_on_password_reset(sender, request, user, **kwargs) -> None:
    # The key came by mail to the account's address (an invitation, or a reset asked for it), so
    # following it proves the mailbox: without this, people invited by their organisation or the
    # coordinator would set a password and then be asked to confirm the address before signing in.
    EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=False).update(verified=True)
