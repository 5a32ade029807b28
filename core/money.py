"""Money is integer cents (never float), shown in the reader's language: 1.234,50 € or €1,234.50."""

from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import get_language


def euros(cents: int | None) -> str:
    if cents is None:
        return ""
    amount = number_format(Decimal(cents) / 100, 2, use_l10n=True, force_grouping=True)
    return f"€{amount}" if get_language() == "en" else f"{amount}\N{NO-BREAK SPACE}€"
