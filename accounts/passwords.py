"""Password rules whose messages Django's own translation does not cover."""

from django.contrib.auth import password_validation
from django.utils.translation import ngettext


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    # Django 5.2 reworded this message ("%d character") and its Italian catalogue still has the old
    # wording only, so Italian pages said it in English. Ours is written in Italian, translated in locale/en.
    def get_error_message(self) -> str:
        return ngettext(
            "Questa password è troppo corta: deve avere almeno %(min_length)d carattere.",
            "Questa password è troppo corta: deve avere almeno %(min_length)d caratteri.",
            self.min_length,
        ) % {"min_length": self.min_length}

    def get_help_text(self) -> str:
        return ngettext(
            "La password deve avere almeno %(min_length)d carattere.",
            "La password deve avere almeno %(min_length)d caratteri.",
            self.min_length,
        ) % {"min_length": self.min_length}
