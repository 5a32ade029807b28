"""Marking the network's own content with its language (WCAG 2.1, 3.1.2 Language of Parts)."""

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag
def content_lang(translation: str = "") -> str:
    """` lang="it"` on an element holding content written in Italian, when the page is in another
    language and shows no translation of it (`translation`: the content's English version, if any).

    Names, descriptions and news are written by the network's members in Italian: on an English page
    a screen reader must read them with Italian pronunciation.
    """
    language = get_language() or settings.LANGUAGE_CODE
    if language == settings.LANGUAGE_CODE or translation:
        return ""
    return format_html(' lang="{}"', settings.LANGUAGE_CODE)
