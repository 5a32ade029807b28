from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fiscal import normalise_codice_fiscale, normalise_partita_iva
from core.forms import DateTimeLocalInput, HiddenFieldErrors, MomentField, local_datetimes
from core.models import Municipio

from .models import Article, JoinRequest, NetworkRole, Organisation, OrganisationKind, SizeClass


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("Cerca"), required=False, max_length=200)
    kind = forms.ChoiceField(label=_("Tipo"), required=False, choices=[("", _("Tutti i tipi")), *OrganisationKind.choices])
    role = forms.ChoiceField(label=_("Ruolo nella rete"), required=False, choices=[("", _("Tutti i ruoli")), *NetworkRole.choices])
    municipio = forms.TypedChoiceField(label=_("Municipio"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, municipi: list[tuple[int, str]], **kwargs):
        """`municipi`: the territory's (number, name) pairs, which the view takes from the cache."""
        super().__init__(*args, **kwargs)
        self.fields["municipio"].choices = [("", _("Tutti i Municipi")), *municipi]


def check_size_class(form: forms.BaseForm, cleaned: dict) -> None:
    """A firm says its size class; nobody else has one (the model's constraint, said by the field)."""
    kind, size = cleaned.get("kind"), cleaned.get("size_class")
    if kind == OrganisationKind.FIRM and not size:
        form.add_error("size_class", _("Indica la dimensione dell'impresa."))
    if kind and kind != OrganisationKind.FIRM and size:
        form.add_error("size_class", _("La dimensione si indica solo per le imprese."))


class TelInput(forms.TextInput):
    input_type = "tel"


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
        widgets = {
            "motivation": forms.Textarea(attrs={"rows": 4}),
            # Phones offer their keypads: digits for a CAP and a partita IVA, the dialler for a phone.
            "phone": TelInput,
            "postal_code": forms.TextInput(attrs={"inputmode": "numeric"}),
            "vat_number": forms.TextInput(attrs={"inputmode": "numeric"}),
        }
        # The form speaks to the person filling it in ("tu"), about their organisation.
        labels = {"motivation": _("Perché la tua organizzazione vuole aderire")}
        help_texts = {
            "tax_code": _("11 cifre per le organizzazioni, 16 caratteri per le ditte individuali."),
            "vat_number": _("11 cifre; facoltativa per associazioni ed enti senza partita IVA."),
            "size_class": _("Solo per le imprese."),
        }

    def __init__(self, *args, territory, **kwargs):
        super().__init__(*args, **kwargs)
        self.territory = territory
        self.fields["municipio"].queryset = Municipio.objects.filter(territory=territory)
        self.fields["size_class"].choices = [("", _("—")), *SizeClass.choices]
        for name in ("name", "kind", "requested_role", "tax_code", "contact_name", "email"):
            self.fields[name].required = True
        # Typed with spaces or a country code ("IT 0123456 0157"), longer than what is stored: the
        # clean_ methods below normalise them, then the model's own length holds.
        for name, typed_length in (("tax_code", 24), ("vat_number", 20)):
            field = self.fields[name]
            field.max_length = typed_length
            field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
            field.validators.append(MaxLengthValidator(typed_length))
            field.widget.attrs["maxlength"] = str(typed_length)

    def clean_tax_code(self) -> str:
        code = normalise_codice_fiscale(self.cleaned_data["tax_code"])
        if Organisation.objects.filter(territory=self.territory, tax_code=code).exists():
            raise ValidationError(_("Un'organizzazione con questo codice fiscale fa già parte della rete: chiedi "
                                    "l'accesso a chi la amministra, o scrivi al coordinamento."))
        if JoinRequest.objects.filter(territory=self.territory, tax_code=code,
                                      status=JoinRequest.Status.PENDING).exists():
            raise ValidationError(_("Per questa organizzazione c'è già una richiesta di adesione in esame."))
        return code

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
        check_size_class(self, cleaned)
        return cleaned


class RejectJoinRequestForm(forms.Form):
    reason = forms.CharField(
        label=_("Motivo del rifiuto"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("Sarà inviato per email al richiedente."),
    )


LOGO_MAX_BYTES = 1024 * 1024
LOGO_FORMATS = {"PNG", "JPEG", "WEBP"}


class OrganisationProfileForm(forms.ModelForm):
    """What an organisation admin may change on its public page (name, kind and role are the coordinator's)."""

    municipio = forms.ModelChoiceField(queryset=Municipio.objects.none(), required=False, label=_("Municipio"))

    class Meta:
        model = Organisation
        fields = [
            "description", "contribution", "address", "postal_code", "city", "municipio", "latitude", "longitude",
            "website", "email", "phone", "logo",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 6}), "contribution": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "description": _("Testo semplice; puoi usare il Markdown per grassetto, elenchi e link."),
            "latitude": _("Gradi decimali, per esempio 45.464200. Con la longitudine mette l'organizzazione sulla mappa."),
            "logo": _("PNG, JPEG o WebP, al massimo 1 MB."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipio"].queryset = Municipio.objects.filter(territory=self.instance.territory)

    def clean_postal_code(self) -> str:
        value = self.cleaned_data.get("postal_code", "").strip()
        if value and (len(value) != 5 or not value.isdigit()):
            raise ValidationError(_("Il CAP ha 5 cifre."))
        return value

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "image"):  # a new upload, already opened by Pillow
            if logo.size > LOGO_MAX_BYTES:
                raise ValidationError(_("Il logo supera 1 MB."))
            if logo.image.format not in LOGO_FORMATS:
                raise ValidationError(_("Il logo deve essere un'immagine PNG, JPEG o WebP."))
        return logo

    def clean(self):
        cleaned = super().clean()
        lat, lon = cleaned.get("latitude"), cleaned.get("longitude")
        if (lat is None) != (lon is None):
            self.add_error("longitude" if lon is None else "latitude", _("Indica sia la latitudine sia la longitudine."))
        if lat is not None and not -90 <= lat <= 90:
            self.add_error("latitude", _("La latitudine è compresa tra -90 e 90."))
        if lon is not None and not -180 <= lon <= 180:
            self.add_error("longitude", _("La longitudine è compresa tra -180 e 180."))
        return cleaned


class OrganisationMembershipForm(OrganisationProfileForm):
    """The coordinator's version of the form: also what the organisation is and its place in the network."""

    class Meta(OrganisationProfileForm.Meta):
        fields = ["name", "kind", "size_class", "network_role", "is_active", *OrganisationProfileForm.Meta.fields]
        labels = {"is_active": _("Fa parte della rete")}
        help_texts = {
            **OrganisationProfileForm.Meta.help_texts,
            "name": _("L'indirizzo della pagina resta lo stesso, così i link già condivisi continuano a funzionare."),
            "is_active": _(
                "Togliendo la spunta l'organizzazione esce dalla rete: sparisce dall'elenco pubblico, i suoi dati restano."
            ),
        }

    def clean(self):
        cleaned = super().clean()
        check_size_class(self, cleaned)
        return cleaned


class ArticleForm(HiddenFieldErrors, forms.ModelForm):
    """A news item as the coordinators write it; the buttons of the editor say what happens to it."""

    published_at = MomentField(
        label=_("Data di pubblicazione"), required=False, widget=DateTimeLocalInput,
        help_text=_("Vuota: «Pubblica» fa uscire la notizia subito. Con una data futura, «Pubblica» ne programma "
                    "l'uscita a quel momento."),
    )
    version = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Article
        fields = ["title", "summary", "body", "title_en", "summary_en", "body_en"]
        # lang="en": spell checkers and screen readers take the English fields as English.
        widgets = {
            "summary": forms.Textarea,
            "title_en": forms.TextInput(attrs={"lang": "en"}),
            "summary_en": forms.Textarea(attrs={"lang": "en"}),
            "body_en": forms.Textarea(attrs={"lang": "en"}),
        }
        help_texts = {
            "summary": _("Una o due frasi: compaiono nell'elenco delle notizie e nei motori di ricerca."),
            "body": _("Per formattare: una riga vuota tra un paragrafo e l'altro; **parola** per il grassetto, "
                      "*parola* per il corsivo; [testo](https://indirizzo) per un link; un trattino e uno spazio a "
                      "inizio riga per un elenco; ## e uno spazio a inizio riga per un titoletto. «Anteprima» mostra "
                      "il risultato senza salvare."),
            "title_en": _("Facoltativo: chi legge in inglese vede il testo italiano dove manca quello inglese."),
        }

    def __init__(self, *args, action: str = "save", **kwargs):
        """`action`: the button pressed (save, publish, unpublish, preview)."""
        super().__init__(*args, **kwargs)
        self.action = action
        article = self.instance
        if article.pk:
            self.initial.setdefault("published_at", article.published_at)
        local_datetimes(self)

    def clean_published_at(self):
        when = self.cleaned_data["published_at"]
        if when is None or self.instance.published_at is not None:
            return when  # the date field is shown on drafts only
        if self.action == "save":
            # A date is a publication plan: saving the draft alone would silently drop it.
            raise ValidationError(_("Per programmare la notizia usa «Pubblica»; per salvare solo la bozza lascia vuota la data."))
        # A minute of grace: the field has no seconds, and "now" typed by hand is already past.
        if self.action == "publish" and when < timezone.now() - timedelta(minutes=1):
            raise ValidationError(_("Questa data è passata: lascia vuoto il campo per pubblicare subito, "
                                    "o indica un momento futuro per programmare l'uscita."))
        return when
