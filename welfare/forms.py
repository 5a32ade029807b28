import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fiscal import normalise_codice_fiscale
from core.forms import HiddenFieldErrors, RowsChoiceField
from core.links import free_slug
from core.models import Municipio
from core.money import euros
from core.search import fold

from .models import Category, Delivery, Plan, ProviderProposal, Service, Worker
from .services import WorkerData

MAX_RECEIPT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
# What a receipt may be, told by its first bytes rather than by the name the browser sent.
RECEIPT_SIGNATURES = {b"%PDF-": "pdf", b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}


def cents_from_euros(value: str) -> int:
    """ "1.234,50", "1234.5" or "80" → cents; ValidationError for anything else (never a float)."""
    text = str(value).strip().replace("€", "").replace(" ", "").replace("\u00a0", "")
    if re.fullmatch(r"\d{1,3}[.,]\d{3}", text):
        # "1.000" is a thousand euros in Italian, one euro in English ("1,000" the other way round).
        raise ValidationError(_("Importo ambiguo: scrivilo senza separatore delle migliaia, per esempio 1000 o 1000,50."),
                              code="ambiguous")
    if "," in text and "." in text:
        # The last separator is the decimal one: "1.234,50" (Italian) or "1,234.50" (English).
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif "," in text:
        text = text.replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():  # "NaN" and "Infinity" are Decimals too
        raise ValidationError(_("Scrivi un importo in euro, per esempio 250 o 250,50."), code="invalid")
    # The bounds first: quantize() of a huge number (1e999) raises instead of answering.
    if amount <= 0 or amount > Decimal("1000000") or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(_("Un importo positivo, al massimo con due decimali."), code="invalid")
    return int(amount * 100)


class EurosField(forms.CharField):
    """An amount typed in euros, cleaned to integer cents."""

    MAX_LENGTH = 20

    def __init__(self, **kwargs):
        super().__init__(**kwargs)  # no max_length: its validator would measure the cents, an int
        self.widget.attrs.update(inputmode="decimal", maxlength=str(self.MAX_LENGTH))

    def to_python(self, value):
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        if len(value) > self.MAX_LENGTH:
            raise ValidationError(_("Scrivi un importo in euro, per esempio 250 o 250,50."), code="invalid")
        return cents_from_euros(value)


class DateInput(forms.DateInput):
    """A native date picker; it sends and shows ISO dates (initial values must be ISO strings too)."""

    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def personal_tax_code(value: str) -> str:
    code = normalise_codice_fiscale(value)
    if len(code) != 16:
        raise ValidationError(_("Serve il codice fiscale della persona: 16 caratteri."), code="not_personal")
    return code


class CatalogueFilterForm(forms.Form):
    q = forms.CharField(label=_("Cerca"), required=False, max_length=200)
    categoria = forms.ChoiceField(label=_("Categoria"), required=False, choices=[("", _("Tutte le categorie")), *Category.choices])
    modalita = forms.ChoiceField(label=_("Modalità"), required=False, choices=[("", _("Tutte le modalità")), *Delivery.choices])
    municipio = forms.TypedChoiceField(label=_("Municipio servito"), required=False, coerce=int, empty_value=None)
    lat = forms.DecimalField(label=_("Latitudine"), required=False, min_value=-90, max_value=90, decimal_places=6, max_digits=9)
    lon = forms.DecimalField(label=_("Longitudine"), required=False, min_value=-180, max_value=180, decimal_places=6, max_digits=9)

    def __init__(self, *args, territory, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipio"].choices = [("", _("Tutti i Municipi"))] + [
            (number, name) for number, name in Municipio.objects.filter(territory=territory).order_by("number").values_list("number", "name")
        ]

    def clean(self):
        data = super().clean()
        # One without the other orders nothing: say so rather than ignore it.
        if data.get("lat") is not None and data.get("lon") is None and "lon" not in self.errors:
            self.add_error("lon", _("Indica anche la longitudine per ordinare per distanza."))
        if data.get("lon") is not None and data.get("lat") is None and "lat" not in self.errors:
            self.add_error("lat", _("Indica anche la latitudine per ordinare per distanza."))
        return data


class ServiceForm(forms.ModelForm):
    price = EurosField(label=_("Prezzo (euro)"))

    class Meta:
        model = Service
        fields = ["title", "slug", "description", "category", "delivery", "municipi", "address", "latitude",
                  "longitude", "minutes_saved", "is_published"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5}), "municipi": forms.CheckboxSelectMultiple}
        field_classes = {"municipi": RowsChoiceField}
        help_texts = {
            "slug": _("Compare nell'indirizzo della pagina del servizio; per un servizio nuovo, vuoto, lo ricaviamo dal "
                      "titolo. Cambiandolo, i link già condivisi smettono di funzionare."),
            "latitude": _("Gradi decimali, per esempio 45.4642. Con la longitudine mette il servizio sulla mappa e "
                          "nell'ordine per distanza."),
        }

    def __init__(self, *args, territory, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["municipi"].queryset = Municipio.objects.filter(territory=territory).order_by("number")
        self.fields["slug"].required = False  # made from the title when left empty
        if self.instance.pk:
            self.fields["price"].initial = f"{self.instance.price_cents / 100:.2f}".replace(".", ",")

    def clean(self):
        data = super().clean()
        if not data.get("slug") and self.instance.pk:
            data["slug"] = self.instance.slug
        elif not data.get("slug") and data.get("title"):
            others = Service.objects.filter(territory=self.instance.territory).exclude(pk=self.instance.pk)
            data["slug"] = free_slug(data["title"], others, fallback="servizio", max_length=110)
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            raise ValidationError(_("Indica latitudine e longitudine insieme, o nessuna delle due."))
        if data.get("delivery") != Delivery.ONLINE and not data.get("municipi") and not data.get("address"):
            self.add_error("municipi", _("Indica almeno un Municipio servito o l'indirizzo del servizio."))
        return data

    def save(self, commit=True):
        self.instance.price_cents = self.cleaned_data["price"]
        return super().save(commit=commit)


MAX_TIER_CENTS = 20_000_00


class PlanForm(forms.Form):
    name = forms.CharField(label=_("Nome del piano"), max_length=200)
    valid_from = forms.DateField(label=_("Valido dal"), widget=DateInput())
    valid_until = forms.DateField(label=_("Valido fino al"), widget=DateInput())
    categories = forms.MultipleChoiceField(
        label=_("Categorie di servizi ammesse"), choices=Category.choices, widget=forms.CheckboxSelectMultiple
    )
    unused_credit = forms.ChoiceField(label=_("Credito non usato"), choices=Plan.UnusedCredit.choices)
    tiers = forms.CharField(
        label=_("Importo per lavoratore"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Un importo uguale per tutti (per esempio «500»), oppure una riga per categoria di lavoratori: "
                    "«impiegati: 500». Mai un importo per una persona con nome: la legge esenta solo i piani "
                    "per tutti o per categorie (art. 51 c. 2 TUIR)."),
    )

    def __init__(self, *args, organisation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation  # None for the network's pooled plans

    def _worker_names(self) -> set[str]:
        if self.organisation is None:
            return set()
        names = Worker.objects.filter(organisation=self.organisation).values_list("first_name", "last_name")
        return {" ".join(parts).casefold() for first, last in names for parts in ((first, last), (last, first))}

    def clean_tiers(self) -> dict[str, int]:
        tiers: dict[str, int] = {}
        lines = [line.strip() for line in self.cleaned_data["tiers"].splitlines() if line.strip()]
        people = self._worker_names() if any(":" in line for line in lines) else set()
        for line in lines:
            category, sep, amount = line.rpartition(":")
            category = category.strip() if sep else ""
            if " ".join(category.split()).casefold() in people:
                raise ValidationError(_(
                    "«%(category)s» è il nome di un lavoratore: un importo va a tutti o a una categoria di "
                    "lavoratori, mai a una persona (art. 51 c. 2 TUIR)."
                ) % {"category": category})
            if category.casefold() in {c.casefold() for c in tiers}:
                raise ValidationError(_("La categoria «%(category)s» compare due volte.") % {"category": category or "—"})
            if len(category) > 60:
                raise ValidationError(_("Il nome di una categoria ha al massimo 60 caratteri."))
            tiers[category] = cents_from_euros(amount)
            if tiers[category] > MAX_TIER_CENTS:
                # A typo's extra zeros, not a plan: a premio di risultato taken as welfare is a few
                # thousand euros (up to 5,000 at the substitute tax), fringe benefits at most 2,000.
                raise ValidationError(_("%(amount)s per lavoratore è più di quanto un piano preveda (al massimo "
                                        "%(limit)s): controlla gli zeri.") % {
                    "amount": euros(tiers[category]), "limit": euros(MAX_TIER_CENTS)})
        if not tiers:
            raise ValidationError(_("Indica almeno un importo."))
        return tiers

    def clean(self):
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end < start:
            self.add_error("valid_until", _("La fine della validità deve venire dopo l'inizio."))
        if start and end and (end - start).days > 366 * 2:
            self.add_error("valid_until", _("Un piano vale al massimo due anni."))
        return data


class FundForm(HiddenFieldErrors, forms.Form):
    amount = EurosField(label=_("Importo da versare (euro)"))
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)


class WorkerForm(forms.Form):
    first_name = forms.CharField(label=_("Nome"), max_length=100)
    last_name = forms.CharField(label=_("Cognome"), max_length=100)
    tax_code = forms.CharField(label=_("Codice fiscale"), max_length=20)
    email = forms.EmailField(label=_("Email"), max_length=254)  # Worker.email and the account's
    category = forms.CharField(label=_("Categoria di lavoratori"), max_length=60, required=False,
                               widget=forms.TextInput(attrs={"list": "worker-categories"}),
                               help_text=_("Come nelle quote del piano (per esempio «impiegati»); vuota per tutti."))

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation

    def clean_tax_code(self) -> str:
        code = personal_tax_code(self.cleaned_data["tax_code"])
        if Worker.objects.filter(organisation=self.organisation, tax_code=code).exists():
            raise ValidationError(_("Questa persona è già iscritta."))
        return code

    def worker_data(self) -> WorkerData:
        return WorkerData(**{name: self.cleaned_data[name] for name in ("tax_code", "first_name", "last_name", "email", "category")})


class WorkerCategoryForm(forms.Form):
    category = forms.CharField(label=_("Categoria di lavoratori"), max_length=60, required=False)


@dataclass
class ImportRow:
    line: int
    data: WorkerData | None
    # Each problem as (message, its parameters), not yet written in a language: the report is read
    # later, by whoever opens it, in their language (welfare.imports.in_every_language).
    errors: list[tuple]
    who: str = ""  # the row's name and codice fiscale as written, to find it in the file


ALREADY_ENROLLED = (_("Già iscritto."), {})


class WorkerImportForm(forms.Form):
    file = forms.FileField(
        label=_("File CSV"),
        help_text=_("Colonne: codice_fiscale, nome, cognome, email, categoria (facoltativa). "
                    "Separatore virgola o punto e virgola, codifica UTF-8."),
    )

    HEADERS = {"codice_fiscale": "tax_code", "nome": "first_name", "cognome": "last_name", "email": "email",
               "categoria": "category"}
    # Headers as people type them in a spreadsheet: "Codice fiscale", "E-mail", "Categoria ".
    HEADER_ALIASES = {"e_mail": "email", "mail": "email", "indirizzo_email": "email", "cf": "codice_fiscale"}

    @classmethod
    def column(cls, header: str | None) -> str:
        """The column a header names: lower case, no accents, spaces and dashes as underscores."""
        name = re.sub(r"[\s\-]+", "_", fold((header or "").strip()))
        return cls.HEADER_ALIASES.get(name, name)

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(_("Il file supera i 2 MB."))
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError(_("Il file non è in UTF-8: salvalo come «CSV UTF-8» e riprova.")) from None
        if "\x00" in text:
            raise ValidationError(_("Il file contiene caratteri non validi: è davvero un CSV?"))
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;")
        except csv.Error:
            dialect = csv.excel
        # Each record with its row number in a spreadsheet: the titles are row 1, an empty line is a
        # row of its own (skipped, but counted), and a cell holding a line break stays one row.
        reader = csv.reader(io.StringIO(text), dialect=dialect)
        try:
            fieldnames = next(reader, [])
            headers = {self.column(h) for h in fieldnames}
            # Short rows padded with empty cells; cells past the last title ignored.
            rows = [(number, dict(zip(fieldnames, values + [""] * (len(fieldnames) - len(values)), strict=False)))
                    for number, values in enumerate(reader, start=2) if any(v.strip() for v in values)]
        except csv.Error:  # e.g. a field longer than the csv module accepts
            raise ValidationError(_("Il file non è un CSV leggibile: controlla separatori e virgolette.")) from None
        missing = {"codice_fiscale", "nome", "cognome", "email"} - headers
        if missing:
            raise ValidationError(_("Mancano le colonne: %(columns)s.") % {"columns": ", ".join(sorted(missing))})
        if len(rows) > MAX_IMPORT_ROWS:
            raise ValidationError(_("Al massimo %(limit)s righe per file.") % {"limit": MAX_IMPORT_ROWS})
        if not rows:
            raise ValidationError(_("Il file non contiene righe."))
        return rows

    def rows(self) -> list[ImportRow]:
        """Each line checked on its own: the good ones can be imported, the bad ones are reported."""
        enrolled = set(Worker.objects.filter(organisation=self.organisation).values_list("tax_code", flat=True))
        seen: set[str] = set()
        checked = []
        for line, raw in self.cleaned_data["file"]:
            # Whitespace as one space: a cell may hold a line break ("Anna⏎Maria" is "Anna Maria").
            values = {self.HEADERS.get(self.column(k)): " ".join((v or "").split()) for k, v in raw.items() if k}
            errors = []
            try:
                code = personal_tax_code(values.get("tax_code", ""))
            except ValidationError as exc:
                errors.extend((error.message, error.params or {}) for error in exc.error_list)
                code = ""
            if code and code in enrolled:
                errors.append(ALREADY_ENROLLED)
            if code and code in seen:
                errors.append((_("Codice fiscale ripetuto nel file."), {}))
            if not values.get("first_name") or len(values["first_name"]) > 100:
                errors.append((_("Nome mancante o troppo lungo."), {}))
            if not values.get("last_name") or len(values["last_name"]) > 100:
                errors.append((_("Cognome mancante o troppo lungo."), {}))
            try:
                if not values.get("email"):
                    errors.append((_("Email mancante."), {}))
                else:
                    validate_email(values["email"])
                    if len(values["email"]) > 254:  # validate_email does not look at the length
                        raise ValidationError("too long")
            except ValidationError:
                errors.append((_("Email non valida."), {}))
            if len(values.get("category", "")) > 60:
                errors.append((_("Categoria troppo lunga."), {}))
            seen.add(code)
            data = None if errors else WorkerData(
                tax_code=code, first_name=values["first_name"], last_name=values["last_name"],
                email=values["email"], category=values.get("category", ""),
            )
            who = " ".join(v for v in (values.get("first_name", ""), values.get("last_name", "")) if v)[:120]
            if values.get("tax_code"):
                who = f"{who} ({values['tax_code'][:20]})" if who else values["tax_code"][:20]
            checked.append(ImportRow(line=line, data=data, errors=errors, who=who))
        return checked


class OrderForm(forms.Form):
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    wallet = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ChildrenForm(forms.Form):
    has_dependent_children = forms.BooleanField(
        label=_("Ho figli fiscalmente a carico"), required=False,
        help_text=_("Dichiarazione necessaria per la soglia più alta dei fringe benefit (art. 51 c. 3 TUIR)."),
    )


class RefundForm(HiddenFieldErrors, forms.Form):
    wallet = forms.TypedChoiceField(label=_("Piano"), coerce=int)
    category = forms.ChoiceField(
        label=_("Categoria della spesa"),
        choices=[(c.value, c.label) for c in Category if c in Category.refundable()],
    )
    amount = EurosField(label=_("Importo (euro)"))
    description = forms.CharField(label=_("Descrizione della spesa"), max_length=300)
    expense_date = forms.DateField(label=_("Data della spesa"), widget=DateInput())
    receipt = forms.FileField(label=_("Ricevuta"), help_text=_("PDF, JPEG o PNG, al massimo 5 MB."))
    key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, wallets, **kwargs):
        super().__init__(*args, **kwargs)
        self.wallets = {w.pk: w for w in wallets}
        # Each plan says what it refunds, and only categories some plan refunds are offered: a plan for
        # transport alone no longer met "f-bis" with a refusal after the upload.
        refunds = {w.pk: [c for c in Category if c in Category.refundable() and w.plan.allows(c)] for w in wallets}
        self.fields["wallet"].choices = [
            (w.pk, f"{w.plan.name} ({', '.join(c.short for c in refunds[w.pk])})") for w in wallets
        ]
        self.fields["category"].choices = [
            (c.value, c.label) for c in Category if any(c in covered for covered in refunds.values())
        ]

    def clean(self):
        data = super().clean()
        wallet = self.wallets.get(data.get("wallet"))
        if wallet and data.get("category") and not wallet.plan.allows(data["category"]):
            self.add_error("category", _("Il piano scelto non rimborsa questa categoria: scegline un'altra o un altro piano."))
        return data

    def clean_expense_date(self):
        day = self.cleaned_data["expense_date"]
        if day > timezone.localdate():
            raise ValidationError(_("La data della spesa non può essere nel futuro."))
        return day

    def clean_receipt(self):
        receipt = self.cleaned_data["receipt"]
        if receipt.size > MAX_RECEIPT_BYTES:
            raise ValidationError(_("La ricevuta supera i 5 MB."))
        head = receipt.read(16)
        receipt.seek(0)
        kind = next((k for signature, k in RECEIPT_SIGNATURES.items() if head.startswith(signature)), None)
        if kind is None:
            raise ValidationError(_("La ricevuta deve essere un PDF, un JPEG o un PNG."))
        receipt.name = f"ricevuta.{kind}"
        return receipt


class RefundDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approva")), ("reject", _("Respingi"))], widget=forms.RadioSelect)
    reason = forms.CharField(label=_("Motivazione"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not data.get("reason", "").strip():
            self.add_error("reason", _("Spiega perché respingi la richiesta: il lavoratore leggerà la motivazione."))
        return data


class VoucherCancelForm(forms.Form):
    """The buyer cancels with one click; the provider's staff say why, for the worker to read."""

    reason = forms.CharField(label=_("Motivo (lo leggerà il lavoratore)"), widget=forms.Textarea(attrs={"rows": 2}),
                             required=False, max_length=300)

    def __init__(self, *args, is_buyer: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = not is_buyer
        if not is_buyer:
            self.fields["reason"].error_messages["required"] = _(
                "Spiega perché annulli il voucher: il lavoratore riceve il motivo per email.")


class RedeemForm(forms.Form):
    code = forms.CharField(label=_("Codice del voucher"), max_length=20)


class ProviderProposalForm(forms.ModelForm):
    class Meta:
        model = ProviderProposal
        fields = ["name", "email", "website", "city", "category", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}


class ProposalDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("invite", _("Invita ad aderire")), ("decline", _("Non invitare"))], error_messages={
        "required": _("Scegli se invitare il fornitore o no."),
        "invalid_choice": _("Scegli se invitare il fornitore o no."),
    })
    message = forms.CharField(
        label=_("Messaggio per chi l'ha proposto (facoltativo)"), max_length=1000, required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Arriva per email con la decisione, e resta visibile nella sua pagina del welfare."),
    )
