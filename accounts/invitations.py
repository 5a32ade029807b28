"""The link that lets someone invited by mail choose their password (an organisation's new admin, a worker)."""

from allauth.account.forms import default_token_generator
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.urls import reverse


def set_password_url(user) -> str:
    """allauth's own password-reset link: its view checks the key with allauth's token generator (which
    also hashes the address), so a key made by Django's generator would be refused as invalid."""
    return settings.SITE_URL + reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)},
    )
