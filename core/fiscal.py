"""Italian tax identifiers, checked with their check digits (python-stdnum)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.it import codicefiscale, iva


def normalise_partita_iva(value: str) -> str:
    """Return the 11-digit partita IVA or raise ValidationError with a message for people."""
    compact = iva.compact(value or "")
    if not compact.isdigit() or len(compact) != 11:
        raise ValidationError(_("La partita IVA deve avere 11 cifre."), code="invalid_length")
    try:
        return iva.validate(compact)
    except Exception as exc:
        raise ValidationError(
            _("La partita IVA non è valida: la cifra di controllo non corrisponde."), code="invalid_checksum"
        ) from exc


def normalise_codice_fiscale(value: str) -> str:
    """Accept a person's 16-character code or an organisation's 11-digit one."""
    compact = codicefiscale.compact(value or "")
    if len(compact) == 11:
        # An organisation's codice fiscale is checked as a partita IVA is, but named as what it is.
        try:
            return normalise_partita_iva(compact)
        except ValidationError as exc:
            raise ValidationError(
                _("Il codice fiscale di 11 cifre non è valido: la cifra di controllo non corrisponde.")
                if exc.code == "invalid_checksum" else _("Il codice fiscale di un'organizzazione ha 11 cifre."),
                code=exc.code,
            ) from exc
    if len(compact) != 16:
        raise ValidationError(
            _("Il codice fiscale deve avere 16 caratteri (persona) o 11 cifre (organizzazione)."),
            code="invalid_length",
        )
    try:
        return codicefiscale.validate(compact)
    except Exception as exc:
        raise ValidationError(
            _("Il codice fiscale non è valido: il carattere di controllo non corrisponde."), code="invalid_checksum"
        ) from exc
