
from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.forms import DateTimeLocalInput, HiddenFieldErrors, MomentField, RowsChoiceField, local_datetimes
from core.links import free_slug
from network.models import Organisation

from .models import Event, Idea, Question, Session, WorkingTable

RANKS = 3  # how many tables a registrant ranks in "ranked" mode


class RegistrationForm(forms.Form):
    """The public registration form: fixed fields, the event's own questions, table choice, privacy."""

    first_name = forms.CharField(label=_("Nome"), max_length=100)
    last_name = forms.CharField(label=_("Cognome"), max_length=100)
    email = forms.EmailField(label=_("Email"), max_length=254)
    organisation_name = forms.CharField(label=_("Organizzazione"), max_length=200, required=False)
    role_title = forms.CharField(label=_("Ruolo"), max_length=150, required=False)
    accessibility_needs = forms.CharField(
        label=_("Esigenze di accessibilità"), required=False, max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Per esempio interprete LIS, accesso in carrozzina, sottotitoli, esigenze alimentari."),
    )
    privacy_acknowledged = forms.BooleanField(
        label=_("Ho letto l'informativa sul trattamento dei dati personali"),
        error_messages={"required": _("Per iscriverti devi prendere visione dell'informativa privacy.")},
    )
    newsletter_opt_in = forms.BooleanField(label=_("Voglio ricevere la newsletter della rete (facoltativo)"), required=False)
    photo_opt_in = forms.BooleanField(
        label=_("Acconsento a comparire nelle foto e nei video dell'evento (facoltativo)"), required=False
    )

    def __init__(self, *args, event: Event, questions: list[Question] | None = None, **kwargs):
        """`questions`: the event's questions when the caller has them already (the API), else read here."""
        super().__init__(*args, **kwargs)
        self.event = event
        self.questions = list(event.questions.all()) if questions is None else questions
        for question in self.questions:
            self.fields[question.field_name] = self._question_field(question)
        # Tables exist for events without table choice too (their boards): no need to read them then.
        self.tables = list(event.tables.all()) if event.table_mode != Event.TableMode.NONE else []
        if self.tables and event.table_mode == Event.TableMode.FIRST_COME:
            self.fields["table"] = forms.TypedChoiceField(
                label=_("Tavolo di lavoro"), coerce=int, required=False,
                choices=[("", _("Lo sceglierò più tardi"))] + [
                    (t.pk, _("%(title)s (%(left)s posti liberi)") % {"title": t.title, "left": t.seats_left}
                     if t.seats_left else _("%(title)s (completo: lista d'attesa del tavolo)") % {"title": t.title})
                    for t in self.tables
                ],
            )
        elif self.tables and event.table_mode == Event.TableMode.RANKED:
            choices = [("", "—")] + [(t.pk, t.title) for t in self.tables]
            for rank in range(1, min(RANKS, len(self.tables)) + 1):
                self.fields[f"preference_{rank}"] = forms.TypedChoiceField(
                    label=_("Tavolo preferito n. %(rank)s") % {"rank": rank}, coerce=int, required=False,
                    choices=choices,
                )

    @staticmethod
    def _question_field(question: Question) -> forms.Field:
        common = {"label": question.label, "required": question.is_required}
        if question.kind == Question.Kind.TEXT:
            return forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}), **common)
        if question.kind == Question.Kind.YES_NO:
            return forms.TypedChoiceField(
                choices=[("", "—"), ("yes", _("Sì")), ("no", _("No"))], **common
            )
        choices = [(c, c) for c in question.choices]
        if question.kind == Question.Kind.SINGLE:
            field = forms.ChoiceField(choices=[("", "—"), *choices], **common)
            field.content_choices = True  # the coordinator's words: includes/field.html marks their language
            return field
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)

    def clean(self):
        cleaned = super().clean()
        seen = set()
        for rank in range(1, RANKS + 1):
            name = f"preference_{rank}"
            table = cleaned.get(name)
            if table and table in seen:
                # Next to the choice that repeats an earlier one, where the person looks for it.
                self.add_error(name, _("Ogni tavolo può comparire una volta sola tra le preferenze."))
            elif table:
                seen.add(table)
        return cleaned

    @property
    def question_fields(self):
        return [self[q.field_name] for q in self.questions]

    def registration_data(self) -> dict:
        keys = ["first_name", "last_name", "email", "organisation_name", "role_title", "accessibility_needs",
                "newsletter_opt_in", "photo_opt_in"]
        return {key: self.cleaned_data[key] for key in keys}

    def answers(self) -> dict:
        """Answers keyed by question id, as text or a list of texts (kept even if a question changes)."""
        result = {}
        for question in self.questions:
            value = self.cleaned_data.get(question.field_name)
            if value not in (None, "", []):
                result[str(question.pk)] = {"question": question.label, "answer": value}
        return result

    def preferences(self) -> list[int]:
        return [t for t in (self.cleaned_data.get(f"preference_{r}") for r in range(1, RANKS + 1)) if t]

    def table_id(self) -> int | None:
        return self.cleaned_data.get("table") or None


# The coordinator's event editor ------------------------------------------------------------------

# Path segments under /<territory>/eventi/ that are pages, not events.
RESERVED_SLUGS = {"nuovo"}
class EventForm(HiddenFieldErrors, forms.ModelForm):
    """An event's own fields. Seats taken are checked again by the service, under the event's lock."""

    class Meta:
        model = Event
        fields = [
            "title", "slug", "summary", "description", "mode", "venue_name", "venue_address", "latitude",
            "longitude", "online_url", "starts_at", "ends_at", "capacity", "registration_opens_at",
            "registration_closes_at", "offer_hours", "table_mode", "retention_days", "organisers", "is_published",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 2}),
            "description": forms.Textarea(attrs={"rows": 10}),
            "latitude": forms.TextInput(attrs={"inputmode": "decimal"}),
            "longitude": forms.TextInput(attrs={"inputmode": "decimal"}),
            "starts_at": DateTimeLocalInput(),
            "ends_at": DateTimeLocalInput(),
            "registration_opens_at": DateTimeLocalInput(),
            "registration_closes_at": DateTimeLocalInput(),
            "organisers": forms.CheckboxSelectMultiple,
        }
        field_classes = {
            "organisers": RowsChoiceField, "starts_at": MomentField, "ends_at": MomentField,
            "registration_opens_at": MomentField, "registration_closes_at": MomentField,
        }
        # Both "45,4642" and "45.4642" are read as coordinates, in either language.
        localized_fields = ["latitude", "longitude"]
        help_texts = {
            "slug": _(
                "Compare nell'indirizzo della pagina: cambiandolo, i link già condivisi smettono di funzionare. "
                "Vuoto: lo ricaviamo dal titolo."
            ),
            "description": _("Testo semplice; puoi usare il Markdown per grassetto, elenchi e link."),
            "latitude": _("Gradi decimali, per esempio 45,464200. Con la longitudine mette l'evento sulla mappa."),
            "registration_opens_at": _("Vuoto: le iscrizioni sono aperte da subito, una volta pubblicato l'evento."),
            "registration_closes_at": _("Vuoto: le iscrizioni chiudono quando finisce l'evento."),
            "is_published": _("Solo gli eventi pubblicati compaiono nel sito e accettano iscrizioni."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        event = self.instance
        self.fields["slug"].required = False
        current = event.organisers.values_list("pk", flat=True) if event.pk else []
        # Organisers come from the event's territory; one that left the network stays selectable while listed.
        self.fields["organisers"].queryset = Organisation.objects.filter(
            Q(is_active=True) | Q(pk__in=list(current)), territory=event.territory
        ).order_by("name")
        if event.pk:
            self.fields["capacity"].help_text = _(
                "Posti già occupati (confermati e offerte in attesa di risposta): %(taken)s."
            ) % {"taken": event.seats_taken}
            self.fields["edit_version"] = forms.IntegerField(widget=forms.HiddenInput, initial=event.edit_version,
                                                             required=False, min_value=0)
            # Not a consent: the coordinator's choice, ticked because people expect to hear of a move.
            self.fields["notify_registrants"] = forms.BooleanField(
                label=_("Avvisa per email gli iscritti se cambiano data, orari, luogo o collegamento"),
                help_text=_("Ricevono i nuovi dettagli e il calendario aggiornato; i promemoria seguono comunque la nuova data."),
                required=False, initial=True,
            )
        local_datetimes(self)

    def clean_slug(self) -> str:
        value = self.cleaned_data.get("slug", "").strip()
        slug = slugify(value)
        if value and not slug:
            raise ValidationError(_("Usa lettere, numeri e trattini."))
        if slug in RESERVED_SLUGS:
            raise ValidationError(_("Questo identificativo è riservato: scegline un altro."))
        return slug

    def clean_capacity(self) -> int:
        capacity = self.cleaned_data["capacity"]
        if capacity < 1:
            raise ValidationError(_("Indica almeno un posto."))
        return capacity

    def clean_offer_hours(self) -> int | None:
        hours = self.cleaned_data.get("offer_hours")
        if hours is not None and hours < 1:
            raise ValidationError(_("Indica almeno un'ora, oppure lascia vuoto."))
        return hours

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("La fine deve essere dopo l'inizio."))
        opens, closes = cleaned.get("registration_opens_at"), cleaned.get("registration_closes_at")
        if opens and closes and closes <= opens:
            self.add_error("registration_closes_at", _("La chiusura delle iscrizioni deve essere dopo l'apertura."))
        # Registration ends with the event at the latest (Event.is_registration_open): a later date
        # would be shown to people and never apply.
        if ends and closes and closes > ends and "registration_closes_at" not in self.errors:
            self.add_error("registration_closes_at", _("Le iscrizioni devono chiudersi entro la fine dell'evento."))
        if ends and opens and opens >= ends:
            self.add_error("registration_opens_at", _("Le iscrizioni devono aprirsi prima della fine dell'evento."))
        lat, lon = cleaned.get("latitude"), cleaned.get("longitude")
        if (lat is None) != (lon is None) and "latitude" not in self.errors and "longitude" not in self.errors:
            self.add_error("longitude" if lon is None else "latitude", _("Indica sia la latitudine sia la longitudine."))
        if lat is not None and not -90 <= lat <= 90:
            self.add_error("latitude", _("La latitudine è compresa tra -90 e 90."))
        if lon is not None and not -180 <= lon <= 180:
            self.add_error("longitude", _("La longitudine è compresa tra -180 e 180."))
        self._clean_unique_slug(cleaned)
        return cleaned

    def _clean_unique_slug(self, cleaned: dict) -> None:
        if "slug" in self.errors:
            return
        event = self.instance
        others = Event.objects.filter(territory=event.territory).exclude(pk=event.pk)
        slug = cleaned.get("slug")
        if not slug and event.pk:
            cleaned["slug"] = event.slug  # still the stored one: the form copies its data onto it after clean()
        elif not slug and cleaned.get("title"):
            cleaned["slug"] = free_slug(cleaned["title"], others, fallback="evento", max_length=110,
                                        reserved=RESERVED_SLUGS)
        elif slug and others.filter(slug=slug).exists():
            self.add_error("slug", _("Un altro evento di questo territorio usa già questo identificativo."))


class SessionForm(HiddenFieldErrors, forms.ModelForm):
    class Meta:
        model = Session
        fields = ["title", "starts_at", "ends_at", "room", "speakers", "description"]
        widgets = {
            "starts_at": DateTimeLocalInput(), "ends_at": DateTimeLocalInput(),
            "description": forms.Textarea(attrs={"rows": 2}),
        }
        field_classes = {"starts_at": MomentField, "ends_at": MomentField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        local_datetimes(self)

    def clean(self):
        cleaned = super().clean()
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", _("La fine deve essere dopo l'inizio."))
        return cleaned


class WorkingTableForm(HiddenFieldErrors, forms.ModelForm):
    facilitator_email = forms.EmailField(
        label=_("Email del facilitatore"), required=False,
        help_text=_("Una persona con un ruolo nella rete di questo territorio. Vuoto: nessun facilitatore."),
    )

    field_order = ["title", "description", "capacity", "facilitator_email", "position"]

    class Meta:
        model = WorkingTable
        fields = ["title", "description", "capacity", "position"]
        labels = {"position": _("Ordine")}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, territory, **kwargs):
        super().__init__(*args, **kwargs)
        self.territory = territory
        self.fields["capacity"].validators.append(MinValueValidator(1))  # a table nobody can sit at is a mistake
        self.fields["capacity"].widget.attrs["min"] = 1
        table = self.instance
        if table.pk:
            self.fields["capacity"].help_text = _("Posti già occupati: %(taken)s.") % {"taken": table.seats_taken}
            if table.facilitator_id:
                self.initial.setdefault("facilitator_email", table.facilitator.email)

    def clean_facilitator_email(self) -> User | None:
        email = self.cleaned_data.get("facilitator_email", "").strip()
        if not email:
            return None
        user = User.objects.filter(email__iexact=email, is_active=True, roles__territory=self.territory).first()
        if user is None:
            raise ValidationError(_("Nessuna persona della rete di questo territorio ha questa email."))
        return user

    def clean(self):
        cleaned = super().clean()
        if "facilitator_email" in cleaned:
            self.instance.facilitator = cleaned["facilitator_email"]
        return cleaned


class QuestionForm(HiddenFieldErrors, forms.ModelForm):
    CHOICE_KINDS = {Question.Kind.SINGLE, Question.Kind.MULTIPLE}

    choices_text = forms.CharField(
        label=_("Opzioni"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000,
        help_text=_("Per le domande a scelta: almeno due opzioni, una per riga."),
    )

    field_order = ["label", "kind", "choices_text", "is_required", "position"]

    class Meta:
        model = Question
        fields = ["label", "kind", "is_required", "position"]
        labels = {"position": _("Ordine")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial.setdefault("choices_text", "\n".join(self.instance.choices))

    def clean(self):
        cleaned = super().clean()
        choices: list[str] = []
        for line in cleaned.get("choices_text", "").splitlines():
            if line.strip() and line.strip() not in choices:
                choices.append(line.strip())
        kind = cleaned.get("kind")
        if kind in self.CHOICE_KINDS and len(choices) < 2:
            self.add_error("choices_text", _("Una domanda a scelta ha bisogno di almeno due opzioni, una per riga."))
        elif any(len(choice) > 200 for choice in choices):
            self.add_error("choices_text", _("Ogni opzione può avere al massimo 200 caratteri."))
        # Text and yes/no questions keep no options, whatever was typed.
        self.instance.choices = choices if kind in self.CHOICE_KINDS else []
        return cleaned


SessionFormSet = forms.inlineformset_factory(
    Event, Session, form=SessionForm, extra=2, can_delete=True, can_delete_extra=False
)
WorkingTableFormSet = forms.inlineformset_factory(
    Event, WorkingTable, form=WorkingTableForm, extra=2, can_delete=True, can_delete_extra=False
)
QuestionFormSet = forms.inlineformset_factory(
    Event, Question, form=QuestionForm, extra=2, can_delete=True, can_delete_extra=False
)


def event_formsets(data, *, event: Event) -> dict[str, forms.BaseInlineFormSet]:
    """The editor's inline lists, each with blank rows to add to without JavaScript."""
    return {
        "sessions": SessionFormSet(data, instance=event, prefix="sessions"),
        "tables": WorkingTableFormSet(data, instance=event, prefix="tables", form_kwargs={"territory": event.territory}),
        "questions": QuestionFormSet(data, instance=event, prefix="questions"),
    }


# Ideas boards ------------------------------------------------------------------------------------


class IdeaForm(forms.Form):
    text = forms.CharField(
        label=_("La tua idea"), max_length=Idea.TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Scrivi la tua idea prima di pubblicarla.")},
        help_text=_("Al massimo 500 caratteri. Le idee compaiono senza il nome di chi le propone."),
    )


class TableSummaryForm(forms.Form):
    summary = forms.CharField(
        label=_("Sintesi del tavolo"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Testo semplice (gli a capo restano, non si usa Markdown): compare nella pagina dell'evento, "
                    "con le idee più votate."),
    )
