from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Event, Question

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

    def __init__(self, *args, event: Event, **kwargs):
        super().__init__(*args, **kwargs)
        self.event = event
        self.questions = list(event.questions.all())
        for question in self.questions:
            self.fields[question.field_name] = self._question_field(question)
        self.tables = list(event.tables.all())
        if self.tables and event.table_mode == Event.TableMode.FIRST_COME:
            self.fields["table"] = forms.TypedChoiceField(
                label=_("Tavolo di lavoro"), coerce=int, required=False,
                choices=[("", _("Lo sceglierò più tardi"))] + [
                    (t.pk, _("%(title)s (%(left)s posti liberi)") % {"title": t.title, "left": t.seats_left})
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
            return forms.ChoiceField(choices=[("", "—"), *choices], **common)
        return forms.MultipleChoiceField(choices=choices, widget=forms.CheckboxSelectMultiple, **common)

    def clean(self):
        cleaned = super().clean()
        ranked = [cleaned.get(f"preference_{rank}") for rank in range(1, RANKS + 1)]
        ranked = [table for table in ranked if table]
        if len(ranked) != len(set(ranked)):
            raise ValidationError(_("Ogni tavolo può comparire una volta sola tra le preferenze."))
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
