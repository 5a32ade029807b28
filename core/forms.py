"""What people type or send in forms, read the same way by every app: fields and helpers."""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The largest id a row can have (a signed 64-bit primary key, as in core.api.RowId).
MAX_ROW_ID = 2**63 - 1


class RowsChoiceField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField that refuses ids no row can have before it queries them.

    Django checks the ids with one `pk__in` query; SQLite cannot bind an integer past 64 bits and
    raised OverflowError, a server error for a tampered checkbox value. Such an id is reported like
    any other unknown choice.
    """

    def _check_values(self, value):
        for pk in value if isinstance(value, list | tuple) else []:
            try:
                number = int(str(pk).strip())
            except ValueError:
                continue  # Django's own check reports it
            if not -MAX_ROW_ID - 1 <= number <= MAX_ROW_ID:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                )
        return super()._check_values(value)


def posted_id(value: str | None) -> int:
    """A row id sent in a form's plain field (a button's value, a radio), or 0 when it is not one.

    Looking a row up by 0 finds nothing (a 404); Django's lookup itself raised ValueError, a server
    error, for "abc" or "1e3". An id past 64 bits also finds nothing: Django answers that lookup empty.
    """
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() else 0


def typed_code(value: str) -> str:
    """A printed code (a ticket's, a voucher's: capitals and digits) as people type it: "prsy njgv",
    "PRSY-NJGV" and "prsynjgv" are one code."""
    return "".join(c for c in value.upper() if c.isascii() and c.isalnum())


def typed_text(value: str | None, *, max_length: int) -> str:
    """A free-text filter from a query string: trimmed, cut to `max_length`, without NUL characters
    (PostgreSQL's text cannot hold them: a search with one was a server error)."""
    return (value or "").replace("\x00", "").strip()[:max_length]


class HiddenFieldErrors:
    """A form mixin: errors of its hidden fields (a form left open too long, or tampered with) are
    said with the form's own errors, since a hidden field has no place to show them."""

    def _post_clean(self):
        super()._post_clean()
        if any(name in self.fields and self.fields[name].widget.is_hidden for name in self.errors):
            self.add_error(None, forms.ValidationError(
                _("Il modulo non è più valido (forse è rimasto aperto a lungo): ricarica la pagina e riprova."),
                code="stale_form",
            ))


DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=DATETIME_LOCAL)


# A date and time people set (an event's start, an article's publication): a typo of the year (0001,
# 20026) is refused rather than stored. Year 1 in Rome is before year 1 in UTC, which Python cannot
# represent: the form raised OverflowError, a server error.
FIRST_YEAR, LAST_YEAR = 2000, 2100


class MomentField(forms.DateTimeField):
    default_error_messages = {"invalid": _("Indica data e ora, per esempio 07/12/2026 10:00.")}

    def to_python(self, value):
        try:
            result = super().to_python(value)
        except OverflowError:
            result = datetime.min.replace(tzinfo=timezone.get_current_timezone())
        if result is not None and not FIRST_YEAR <= result.year <= LAST_YEAR:
            raise ValidationError(
                _("Indica una data tra il %(first)s e il %(last)s."), code="year_out_of_range",
                params={"first": FIRST_YEAR, "last": LAST_YEAR},
            )
        return result


def local_datetimes(form: forms.BaseForm) -> None:
    """includes/field.html prints a field's value as is, and a datetime-local input only takes
    "2026-11-28T09:30" in local time: give the form's initial values in that shape."""
    for name, field in form.fields.items():
        value = form.initial.get(name)
        if isinstance(field, forms.DateTimeField) and isinstance(value, datetime):
            value = timezone.localtime(value)
            form.initial[name] = value.strftime(DATETIME_LOCAL + (":%S" if value.second else ""))
