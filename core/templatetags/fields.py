"""What templates/includes/field.html needs beyond Django's template language."""

from django import template
from django.forms.utils import flatatt
from django.utils.formats import get_format

register = template.Library()

# Written by the include itself: its own class list, and the textarea's size.
_OWN = {"class", "rows", "cols"}


@register.filter
def widget_attrs(field) -> str:
    """The widget's own attributes (step, min, max, maxlength, inputmode, placeholder…) as HTML.

    field.html writes each input by hand, for speed; without these, a number input would take only
    whole numbers, and limits a form sets would be lost. Values are written as Python gives them
    (0.000001, never the Italian 0,000001 a browser would refuse).
    """
    attrs = {name: value for name, value in field.field.widget.attrs.items() if name not in _OWN}
    return flatatt(attrs)


@register.filter
def decimal_separator(field) -> str:
    """The decimal separator `field` reads: the language's for a localized field (45,4642 in Italian),
    else the point a number input takes. The location picker writes coordinates with it."""
    return get_format("DECIMAL_SEPARATOR") if field.field.localize else "."
