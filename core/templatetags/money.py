from django import template

from core.money import euros as format_euros

register = template.Library()


@register.filter
def euros(cents: int | None) -> str:
    """Integer cents as money in the reader's language: 1.234,50 € in Italian, €1,234.50 in English."""
    return format_euros(cents)
