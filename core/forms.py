"""Form fields shared by the apps' forms."""

from django import forms

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
