from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.fiscal import normalise_codice_fiscale, normalise_partita_iva
from core.models import Municipio

from .models import JoinRequest, NetworkRole, OrganisationKind, SizeClass


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Cerca"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Tipo"), required=False, choices=[("", _("Tutti i tipi")), *OrganisationKind.choices])
    role = forms.ChoiceField(label=_("Ruolo nella rete"), required=False, choices=[("", _("Tutti i ruoli")), *NetworkRole.choices])
    municipio = forms.TypedChoiceField(label=_("Municipio"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, territory, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipio"].choices = [("", _("Tutti i Municipi"))] + [
            (m.number, m.name) for m in Municipio.objects.filter(territory=territory)
        ]


class JoinRequestForm(forms.ModelForm):
    privacy_acknowledged = forms.BooleanField(
        label=_("Ho letto l'informativa sul trattamento dei dati personali"),
        required=True,
        error_messages={"required": _("Per inviare la richiesta devi prendere visione dell'informativa privacy.")},
    )
    municipio = forms.ModelChoiceField(queryset=Municipio.objects.none(), required=False, label=_("Municipio"))

    class Meta:
        model = JoinRequest
        fields = [
            "name", "kind", "size_class", "requested_role", "tax_code", "vat_number", "address", "postal_code",
            "city", "municipio", "website", "contact_name", "email", "phone", "motivation",
        ]
        widgets = {"motivation": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "tax_code": _("11 cifre per le organizzazioni, 16 caratteri per le ditte individuali."),
            "vat_number": _("11 cifre; facoltativa per associazioni ed enti senza partita IVA."),
            "size_class": _("Solo per le imprese."),
        }

    def __init__(self, *args, territory, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipio"].queryset = Municipio.objects.filter(territory=territory)
        self.fields["size_class"].choices = [("", _("—")), *SizeClass.choices]
        for name in ("name", "kind", "requested_role", "tax_code", "contact_name", "email"):
            self.fields[name].required = True

    def clean_tax_code(self) -> str:
        return normalise_codice_fiscale(self.cleaned_data["tax_code"])

    def clean_vat_number(self) -> str:
        value = self.cleaned_data.get("vat_number", "")
        return normalise_partita_iva(value) if value.strip() else ""

    def clean_postal_code(self) -> str:
        value = self.cleaned_data.get("postal_code", "").strip()
        if value and (len(value) != 5 or not value.isdigit()):
            raise ValidationError(_("Il CAP ha 5 cifre."))
        return value

    def clean(self):
        cleaned = super().clean()
        kind, size = cleaned.get("kind"), cleaned.get("size_class")
        if kind == OrganisationKind.FIRM and not size:
            self.add_error("size_class", _("Indica la dimensione dell'impresa."))
        if kind and kind != OrganisationKind.FIRM and size:
            self.add_error("size_class", _("La dimensione si indica solo per le imprese."))
        return cleaned


class RejectJoinRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Motivo del rifiuto"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("Sarà inviato per email al richiedente."),
    )
