"""Housekeeping on sign-in."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import translation


@receiver(user_logged_in, dispatch_uid="accounts.remember_language")
def remember_language_on_login(sender, request, user, **kwargs) -> None:
    # The language the page was in when they signed in (their cookie, else their browser's).
    user.remember_language(getattr(request, "LANGUAGE_CODE", None) or translation.get_language())
