"""Who may open what: every named page walked by every persona, and `can()` for every permission.

The walk's table must name every URL of our apps (a test below compares it with the resolver), so
a new view cannot be added without saying who may open it. A URL may have several rows
("events:export#csv", "events:cancel#post"): the part after "#" only tells them apart.

Every POST that changes something says how to see the change (`Route.changed`): after the walk we
check that it happened for exactly the visitors who were let in, and for nobody else.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from uuid import uuid4

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Perm, can
from conftest import PERSONAS, make_organisation
from core.models import SentMail, SentMailAttachment
from events import services
from events.models import Event, Idea, IdeaVote, Question, Registration, WorkingTable
from events.tests.factories import make_event, person
from network.models import Article, JoinRequest, Organisation
from welfare import services as welfare
from welfare.models import (
    Category,
    Order,
    Payout,
    Plan,
    PlanParticipant,
    ProviderProposal,
    RefundRequest,
    Service,
    Transfer,
    Wallet,
    Worker,
    WorkerImport,
)
from welfare.tests.factories import enrol, ensure_thresholds, make_plan, make_service, tax_code

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
VISITORS = [ANONYMOUS, *PERSONAS, "other_coordinator"]
APP_NAMESPACES = {"core", "network", "accounts", "events", "welfare"}
LOGIN = "→ sign-in"

PUBLIC = "public"
SIGNED_IN = "signed in"
RESTRICTED = "restricted"  # to the personas in Route.may
COORDINATORS = frozenset({"coordinator"})
# Perm.CHECK_IN_ATTENDEES at an event organised by the firm (the world's events are).
DOOR_STAFF = frozenset({"coordinator", "org_admin", "org_staff"})
# The world's tables are facilitated by the cooperative's provider staff.
FACILITATORS = frozenset({"coordinator", "provider_staff"})
# Welfare: the worker enrolled by the firm; the firm's admin (Perm.MANAGE_WELFARE); the cooperative's
# provider staff (Perm.MANAGE_SERVICES, Perm.REDEEM_VOUCHERS). Coordinators are deliberately none of
# them: workers' enrolment, refunds and purchases stay with their own organisation.
WORKER = frozenset({"worker"})
WELFARE_ADMIN = frozenset({"org_admin"})
PROVIDER_STAFF = frozenset({"provider_staff"})


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default hasher (1M PBKDF2 rounds) makes each `personas` set-up take seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class _PostForms(HTMLParser):
    """What a browser would submit from each POST form of a page: every named field as shown."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict[str, list[str]]] = []
        self.actions: list[str] = []  # each form's action, "" for the page itself
        self._form: dict[str, list[str]] | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._form = {}
            self.forms.append(self._form)
            self.actions.append(attrs.get("action") or "")
        if self._form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._form.setdefault(name, []).append(attrs.get("value") or "on")
            else:
                self._form.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "select" and name:
            self._select, self._select_first = name, None
            self._form.setdefault(name, [])
        elif tag == "option" and self._select:
            value = attrs.get("value") or ""
            if self._select_first is None:
                self._select_first = value
            if "selected" in attrs:
                self._form[self._select] = [value]
        elif tag == "textarea" and name:
            self._textarea = name
            self._form[name] = [""]

    def handle_data(self, data):
        if self._textarea:
            self._form[self._textarea][0] += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            if not self._form[self._select] and self._select_first is not None:
                self._form[self._select] = [self._select_first]  # a browser sends the first option
            self._select = None
        elif tag == "textarea" and self._textarea:
            self._form[self._textarea][0] = self._form[self._textarea][0].removeprefix("\n")
            self._textarea = None
        elif tag == "form":
            self._form = None


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


@dataclass
class World:
    """What the URLs of the walk point at, all in Milan."""

    organisation: Organisation
    article: Article
    sent_mail: SentMail
    coordinator: User
    facilitator: User
    event: Event  # published, upcoming, organised by the firm: first-come tables and a required question
    started_event: Event  # published, under way since an hour: its tables' boards are public
    registration: Registration  # confirmed, for `event`
    checked_in: Registration  # confirmed and checked in, for `started_event`
    idea: Idea  # on `event`'s first table
    personas: dict[str, User]
    plan: Plan  # the firm's, funded, every category, 500 € for each worker
    pooled_plan: Plan  # the network's, for the workers of the category "soci" of the firms that join it
    service: Service  # the cooperative's, published, 50 € (lett. f)
    worker: Worker  # the `worker` persona, enrolled by the firm
    wallet: Wallet  # the worker's, in `plan`
    order: Order  # the worker's voucher for `service`, issued
    refund: RefundRequest  # the worker's, pending
    join_requests: list[JoinRequest] = field(default_factory=list)
    # What each state-changing row of the walk acted on, by the row's key.
    touched: dict[str, object] = field(default_factory=dict)
    _people: itertools.count = field(default_factory=lambda: itertools.count(100))

    def pending_join_request(self) -> JoinRequest:
        # Each POST gets its own pending request, so one persona's decision can't mask another's.
        jr = JoinRequest.objects.create(
            territory=self.organisation.territory,
            name=f"Richiedente {JoinRequest.objects.count() + 1}",
            kind="association",
            requested_role="partner",
            tax_code=f"97{JoinRequest.objects.count() + 1:09d}",  # one pending request per organisation
            contact_name="Carla Bianchi",
            email="carla@example.org",
            privacy_acknowledged_at=timezone.now(),
        )
        self.join_requests.append(jr)
        return jr

    @property
    def table(self) -> WorkingTable:
        return self.event.tables.order_by("position").first()

    @property
    def other_table(self) -> WorkingTable:
        return self.event.tables.order_by("position").last()

    @property
    def started_table(self) -> WorkingTable:
        return self.started_event.tables.order_by("position").first()

    def draft_article(self) -> Article:
        """A new draft of the world's territory, for this row of the walk alone."""
        return Article.objects.create(territory=self.organisation.territory, slug=f"bozza-{uuid4().hex[:8]}",
                                      title="Bozza della walk", summary="Una bozza.", body="Testo.")

    def touch(self, key: str, obj):
        self.touched[key] = obj
        return obj

    def confirmed(self, key: str, event: Event | None = None) -> Registration:
        """A new confirmed registration for this row of the walk alone."""
        event = event or self.event
        question = event.questions.first()
        answers = {str(question.pk): {"question": question.label, "answer": "yes"}} if question else {}
        reg = services.register_attendee(event=event, data=person(next(self._people)), answers=answers)
        assert reg.status == Registration.Status.CONFIRMED
        return self.touch(key, reg)

    def offered(self, key: str) -> Registration:
        """A registration offered a seat freed by a cancellation, waiting for its answer."""
        full = make_event(self.organisation.territory, capacity=1, offer_hours=48)
        first = services.register_attendee(event=full, data=person(next(self._people)))
        waiting = services.register_attendee(event=full, data=person(next(self._people)))
        services.cancel_registration(registration=first)
        waiting.refresh_from_db()
        assert waiting.status == Registration.Status.OFFERED
        return self.touch(key, waiting)

    def new_idea(self, key: str) -> Idea:
        reg = services.register_attendee(event=self.started_event, data=person(next(self._people)))
        return self.touch(
            key, services.post_idea(table=self.started_table, registration=reg, text="Un'idea da moderare")
        )

    def editor_form(self, url: str, **changes) -> dict:
        """The editor's form as a coordinator's browser shows it, with `changes`."""
        return self.form_as("coordinator", url, **changes)

    def form_as(self, persona: str, url: str, *, action: str | None = None, **changes) -> dict:
        """The page's POST form (its largest, or the one posting to `action`) as `persona`'s browser shows it."""
        client = Client()
        client.force_login(self.personas[persona], backend="django.contrib.auth.backends.ModelBackend")
        response = client.get(url)
        assert response.status_code == 200
        parser = _PostForms()
        parser.feed(response.content.decode())
        forms = [f for f, a in zip(parser.forms, parser.actions, strict=True) if action is None or a == action]
        assert forms, f"no form posting to {action} on {url}"
        data = dict(max(forms, key=len))
        data.pop("csrfmiddlewaretoken", None)
        return data | changes

    def new_order(self, key: str) -> Order:
        """A new issued voucher of the worker's, for this row of the walk alone."""
        order = welfare.place_order(worker=self.worker, service=self.service, key=str(uuid4()), actor=self.worker.user)
        return self.touch(key, order)

    def pending_refund(self, key: str | None = None) -> RefundRequest:
        refund = welfare.request_refund(
            worker=self.worker,
            wallet=self.wallet,
            category=Category.EDUCATION,
            amount_cents=1000,
            description="Retta del nido",
            expense_date=timezone.localdate(),
            receipt=receipt(),
            key=str(uuid4()),
            actor=self.worker.user,
        )
        return self.touch(key, refund) if key else refund

    def unpaid_month(self, key: str) -> dict:
        """A provider of its own with one voucher redeemed last month and not paid yet: the URL's kwargs."""
        provider = make_organisation(
            self.organisation.territory, f"Fornitore {next(self._people)}", kind="social_coop", network_role="provider"
        )
        order = welfare.place_order(worker=self.worker, service=make_service(provider, price_cents=500),
                                    key=str(uuid4()), actor=None)
        welfare.redeem_voucher(code=order.code, provider=provider, actor=None)
        last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
        Order.objects.filter(pk=order.pk).update(redeemed_at=timezone.now() - timedelta(days=timezone.localdate().day + 1))
        self.touch(key, provider)
        return {"territory": "milano", "slug": provider.slug, "year": last_month.year, "month": last_month.month}

    def proposal(self, key: str) -> ProviderProposal:
        return self.touch(
            key,
            ProviderProposal.objects.create(
                territory=self.organisation.territory,
                name="Ludoteca Il Girotondo",
                email="info@girotondo.example.org",
                category=Category.EDUCATION,
            ),
        )


def receipt() -> SimpleUploadedFile:
    return SimpleUploadedFile("ricevuta.pdf", b"%PDF-1.4 x", content_type="application/pdf")


def _named(event: Event, slug: str, title: str) -> Event:
    Event.objects.filter(pk=event.pk).update(slug=slug, title=title)
    event.refresh_from_db()
    return event


@pytest.fixture
def world(territory, firm, coop, other_territory, personas, settings, tmp_path) -> World:
    settings.MEDIA_ROOT = tmp_path  # nothing the walk uploads may land in the real media folder
    article = Article.objects.create(
        territory=territory,
        slug="festa-della-rete",
        title="Festa della rete",
        summary="Ci vediamo in piazza.",
        body="Tutti invitati.",
        published_at=timezone.now() - timedelta(days=1),
    )
    sent_mail = SentMail.objects.create(to="anna@example.org", subject="Richiesta ricevuta", body_text="Grazie.")
    SentMailAttachment.objects.create(sent_mail=sent_mail, filename="evento.ics", mimetype="text/calendar",
                                      content=b"BEGIN:VCALENDAR")
    facilitator = personas["provider_staff"]

    event = _named(
        make_event(
            territory,
            description="Il **programma**.",
            table_mode="first_come",
            tables=[("Welfare aziendale", 20), ("Tempi della città", 20)],
        ),
        "open-day-conciliazione",
        "Open day della conciliazione",
    )
    event.organisers.set([firm])
    event.tables.update(facilitator=facilitator)
    question = Question.objects.create(
        event=event, label="Verrai con i mezzi pubblici?", kind=Question.Kind.YES_NO, is_required=True
    )
    started = _named(
        make_event(
            territory,
            starts_at=timezone.now() - timedelta(hours=1),
            tables=[("Idee per la rete", 30)],
        ),
        "laboratorio-in-corso",
        "Laboratorio in corso",
    )
    started.organisers.set([firm])
    started.tables.update(facilitator=facilitator)

    answer = {str(question.pk): {"question": question.label, "answer": "no"}}
    registration = services.register_attendee(event=event, data=person(1, organisation_name="Officine"), answers=answer)
    # Present at the event under way: a certificate exists only once its event has started.
    checked_in = services.register_attendee(event=started, data=person(2))
    services.check_in(event=started, ticket_code=checked_in.ticket_code, actor=personas["coordinator"])
    idea = services.post_idea(
        table=event.tables.order_by("position").first(),
        registration=registration,
        text="Un asilo aziendale condiviso tra le imprese del quartiere",
    )

    ensure_thresholds()
    plan = make_plan(firm)
    pooled_plan = welfare.create_plan(
        territory=territory,
        organisation=None,
        name="Welfare condiviso della rete",
        year=plan.year,
        valid_from=plan.valid_from,
        valid_until=plan.valid_until,
        categories=[c.value for c in Category],
        unused_credit=Plan.UnusedCredit.CARRY_OVER,
        tiers={"soci": 30000},
        actor=personas["coordinator"],
    )
    worker = enrol(firm, 1, user=personas["worker"])
    service = make_service(coop, title="Yoga in pausa pranzo", address="Via Padova 21")
    world = World(
        organisation=firm,
        article=article,
        sent_mail=sent_mail,
        coordinator=personas["coordinator"],
        facilitator=facilitator,
        event=event,
        started_event=started,
        registration=registration,
        checked_in=checked_in,
        idea=idea,
        personas=personas,
        plan=plan,
        pooled_plan=pooled_plan,
        service=service,
        worker=worker,
        wallet=worker.wallets.get(plan=plan),
        order=None,
        refund=None,
    )
    world.order = welfare.place_order(worker=worker, service=service, key="walk-order", actor=personas["worker"])
    world.refund = world.pending_refund()
    return world


def _refetch(obj):
    return type(obj).objects.get(pk=obj.pk)


@dataclass(frozen=True)
class Route:
    access: str
    kwargs: Callable[[World], dict] = lambda w: {}
    method: str = "get"
    # The query (GET) or the form (POST); a callable receives the world and the URL's kwargs.
    data: dict | Callable[[World, dict], dict] | None = None
    may: frozenset[str] = COORDINATORS
    ok: int | None = None  # what a visitor let in gets: 200 (GET) or 302 (POST) unless said here
    refused: int = 403  # what a signed-in visitor who may not gets
    anonymous: int | str = LOGIN  # what the anonymous visitor gets, when not public
    # Given what the row acted on (World.touched), did it change? For state-changing POSTs.
    changed: Callable[[object], bool] | None = None


def milano(**more: Callable[[World], object]) -> Callable[[World], dict]:
    return lambda w: {"territory": "milano", **{k: f(w) for k, f in more.items()}}


def event_of(attr: str = "event", **more: Callable[[World], object]) -> Callable[[World], dict]:
    return milano(slug=lambda w: getattr(w, attr).slug, **more)


def token(f: Callable[[World], Registration], **more: Callable[[World], object]) -> Callable[[World], dict]:
    return lambda w: {"token": f(w).token, **{k: g(w) for k, g in more.items()}}


def _registration_form(w: World, kwargs: dict) -> dict:
    question = w.event.questions.get()
    form = {
        "first_name": "Giulia",
        "last_name": "Verdi",
        "email": "giulia.verdi@example.org",
        "privacy_acknowledged": "on",
        question.field_name: "yes",
        "table": w.table.pk,
    }
    w.touch("events:register#post", form["email"])
    return form


def _new_event_form(w: World, kwargs: dict) -> dict:
    starts = timezone.now().replace(second=0, microsecond=0) + timedelta(days=40)
    data = w.editor_form(
        reverse("events:new", kwargs=kwargs),
        title="Evento nato nella walk",
        slug="evento-della-walk",
        summary="Un evento creato dalla walk.",
        mode="in_person",
        starts_at=_local(starts),
        ends_at=_local(starts + timedelta(hours=3)),
        capacity="30",
        table_mode="none",
        retention_days="180",
    )
    w.touch("events:new#post", "evento-della-walk")
    return data


def _edited_event(w: World) -> dict:
    event = w.touch("events:edit#post", make_event(w.organisation.territory))
    return {"territory": "milano", "slug": event.slug}


def _new_article_form(w: World, kwargs: dict) -> dict:
    title = w.touch("network:article_new#post", f"Notizia della walk {uuid4().hex[:6]}")
    form = w.editor_form(reverse("network:article_new", kwargs=kwargs), title=title, summary="Dalla walk.", body="Testo.")
    return form | {"action": "save"}  # the button pressed


def _draft_article(w: World) -> dict:
    article = w.touch("network:article_edit#post", w.draft_article())
    return {"territory": "milano", "pk": article.pk}


RENAMED = "Titolo cambiato dalla walk"
SUMMARY = "Sintesi scritta durante la walk."


def _summary_form(w: World, kwargs: dict) -> dict:
    w.touch("events:table_summary#post", w.started_table)
    return {"summary": SUMMARY}


def firm_welfare(**more: Callable[[World], object]) -> Callable[[World], dict]:
    return milano(slug=lambda w: w.organisation.slug, **more)


def provider_desk(**more: Callable[[World], object]) -> Callable[[World], dict]:
    return milano(slug=lambda w: w.service.provider.slug, **more)


def this_month(fmt: str) -> Callable[[World], dict]:
    today = timezone.localdate()
    return provider_desk(year=lambda w: today.year, month=lambda w: f"{today.month:02d}", fmt=lambda w: fmt)


def _new_service(key: str) -> Callable[[World], dict]:
    def kwargs(w: World) -> dict:
        service = w.touch(key, make_service(w.service.provider, address="Via Padova 21"))
        return {"territory": "milano", "slug": service.slug}

    return kwargs


def _order_form(w: World, kwargs: dict) -> dict:
    # The key and the wallet exactly as the service page renders them for the worker.
    url = reverse("welfare:service", kwargs=kwargs)
    return w.form_as("worker", url, action=reverse("welfare:order", kwargs=kwargs))


def _proposal_form(w: World, kwargs: dict) -> dict:
    name = w.touch("welfare:propose_provider#post", "Piscina di quartiere")
    return {
        "name": name,
        "email": "info@piscina.example.org",
        "city": "Milano",
        "category": Category.WELLBEING,
        "note": "La usiamo già in tanti.",
    }


def _refund_form(w: World, kwargs: dict) -> dict:
    description = w.touch("welfare:refund_new#post", "Centro estivo di luglio")
    form = w.form_as("worker", reverse("welfare:refund_new"))
    return form | {"category": Category.EDUCATION, "amount": "120,50", "description": description, "receipt": receipt()}


def _plan_form(key: str, persona: str) -> Callable[[World, dict], dict]:
    def data(w: World, kwargs: dict) -> dict:
        name = w.touch(key, f"Piano della walk ({persona})")
        # Tiers for a category nobody has: later enrolments in the walk need no funding for it.
        return w.form_as(persona, reverse(url_name(key), kwargs=kwargs), name=name, tiers="dirigenti: 500")

    return data


def _unfunded_plan(w: World) -> Plan:
    return welfare.create_plan(
        territory=w.organisation.territory, organisation=w.organisation, name=f"Piano da eliminare {uuid4()}",
        year=timezone.localdate().year, valid_from=timezone.localdate(), valid_until=timezone.localdate(),
        categories=["f"], unused_credit="carry_over", tiers={"dirigenti": 500}, actor=None,
    )


def _fund_form(w: World, kwargs: dict) -> dict:
    organisation = reverse("welfare:organisation", kwargs={"territory": "milano", "slug": w.organisation.slug})
    form = w.form_as("org_admin", organisation, action=reverse("welfare:plan_fund", kwargs=kwargs), amount="1.000,50")
    w.touch("welfare:plan_fund", form["key"][0])
    return form


def _worker_form(w: World, kwargs: dict) -> dict:
    code = w.touch("welfare:worker_new", tax_code(2))
    return {
        "first_name": "Lucia",
        "last_name": "Bruni",
        "tax_code": code,
        "email": "lucia.bruni@example.org",
        "category": "",
    }


def _import_form(w: World, kwargs: dict) -> dict:
    code = w.touch("welfare:worker_import", tax_code(3))
    csv = f"codice_fiscale;nome;cognome;email\n{code};Marco;Neri;marco.neri@example.org\n"
    return {"file": SimpleUploadedFile("lavoratori.csv", csv.encode(), content_type="text/csv")}


def _service_form(w: World, kwargs: dict) -> dict:
    slug = w.touch("welfare:service_new#post", "doposcuola-della-walk")
    return w.form_as(
        "provider_staff",
        reverse("welfare:service_new", kwargs=kwargs),
        title="Doposcuola della walk",
        slug=slug,
        description="Compiti e merenda.",
        category=Category.EDUCATION,
        delivery="online",
        price="80",
    )


def _edited_service(w: World) -> dict:
    service = w.touch("welfare:service_edit#post", make_service(w.service.provider, address="Via Padova 21"))
    return {"territory": "milano", "slug": service.provider.slug, "service_slug": service.slug}


# The buyer of a voucher, or the staff of its provider (Perm.REDEEM_VOUCHERS).
BUYER_OR_PROVIDER = frozenset({"worker", "provider_staff"})
SERVICE_RENAMED = "Servizio rinominato dalla walk"

ROUTES: dict[str, Route] = {
    "core:home": Route(PUBLIC),
    "core:healthz": Route(PUBLIC),
    "core:page": Route(PUBLIC, lambda w: {"slug": "privacy"}),
    "core:page_pdf": Route(PUBLIC, lambda w: {"slug": "privacy"}),
    "core:sent_mail": Route(PUBLIC, lambda w: {"token": w.sent_mail.token}),
    "core:sent_mail_attachment": Route(PUBLIC, lambda w: {"token": w.sent_mail.token,
                                                          "attachment_id": w.sent_mail.attachments.get().pk}),
    "core:territory_home": Route(PUBLIC, milano()),
    # Sets the language cookie and sends the visitor back (to the home page, with no `next`).
    "core:switch_language": Route(PUBLIC, lambda w: {"code": "it"}, ok=302),
    "network:directory": Route(PUBLIC, milano()),
    "network:directory_map": Route(PUBLIC, milano()),
    "network:organisation": Route(PUBLIC, milano(slug=lambda w: w.organisation.slug)),
    "network:organisation_edit": Route(
        RESTRICTED, milano(slug=lambda w: w.organisation.slug), may=frozenset({"coordinator", "org_admin"})
    ),
    "network:organisation_pdf": Route(PUBLIC, milano(slug=lambda w: w.organisation.slug)),
    "network:join": Route(PUBLIC, milano()),
    "network:join_thanks": Route(PUBLIC, milano()),
    "network:articles": Route(PUBLIC, milano()),
    "network:article": Route(PUBLIC, milano(slug=lambda w: w.article.slug)),
    "network:article_pdf": Route(PUBLIC, milano(slug=lambda w: w.article.slug)),
    "network:coordination": Route(RESTRICTED, milano()),
    "network:members": Route(RESTRICTED, milano()),
    "network:join_requests": Route(RESTRICTED, milano()),
    "network:join_request": Route(RESTRICTED, milano(pk=lambda w: w.pending_join_request().pk)),
    "network:approve_join_request": Route(RESTRICTED, milano(pk=lambda w: w.pending_join_request().pk), method="post"),
    "network:reject_join_request": Route(
        RESTRICTED,
        milano(pk=lambda w: w.pending_join_request().pk),
        method="post",
        data={"reason": "Non operate nel territorio."},
    ),
    "network:audit_log": Route(RESTRICTED, milano()),
    "network:manage_articles": Route(RESTRICTED, milano()),
    "network:article_new": Route(RESTRICTED, milano()),
    "network:article_new#post": Route(
        RESTRICTED, milano(), method="post", data=_new_article_form,
        changed=lambda title: Article.objects.filter(title=title).exists(),
    ),
    "network:article_edit": Route(RESTRICTED, milano(pk=lambda w: w.article.pk)),
    "network:article_edit#post": Route(
        RESTRICTED, _draft_article, method="post",
        data=lambda w, kw: w.editor_form(reverse("network:article_edit", kwargs=kw), title=RENAMED),
        changed=lambda article: _refetch(article).title == RENAMED,
    ),
    "network:article_delete": Route(RESTRICTED, milano(pk=lambda w: w.draft_article().pk)),
    "network:article_delete#post": Route(
        RESTRICTED, lambda w: milano(pk=lambda w: w.touch("network:article_delete#post", w.draft_article()).pk)(w),
        method="post", changed=lambda article: not Article.objects.filter(pk=article.pk).exists(),
    ),
    "accounts:dashboard": Route(SIGNED_IN),
    # --- events: the public programme -------------------------------------------------------------
    "events:event_list": Route(PUBLIC, milano()),
    "events:event_list#past": Route(PUBLIC, milano(), data={"quando": "passati"}),
    "events:territory_ics": Route(PUBLIC, milano()),
    "events:event": Route(PUBLIC, event_of()),
    "events:event#started": Route(PUBLIC, event_of("started_event")),
    "events:event_pdf": Route(PUBLIC, event_of()),
    "events:event_ics": Route(PUBLIC, event_of()),
    "events:register": Route(PUBLIC, event_of()),
    "events:register#post": Route(
        PUBLIC,
        event_of(),
        method="post",
        data=_registration_form,
        changed=lambda email: Registration.objects.filter(email=email, status="confirmed").exists(),
    ),
    # Anyone may ask; the link goes only to the registered address (the answer is the same either way).
    "events:resend_link": Route(PUBLIC, event_of(), method="post", data={"email": "nessuno@example.org"}),
    # The public board of a table once its event has started; before, only who moderates it sees it.
    "events:table_board": Route(PUBLIC, event_of("started_event", table_id=lambda w: w.started_table.pk)),
    "events:table_board#before-start": Route(
        RESTRICTED, event_of(table_id=lambda w: w.table.pk), refused=404, anonymous=404
    ),
    # --- events: the registration's token is the credential: whoever holds it may ----------------
    "events:registration": Route(PUBLIC, token(lambda w: w.registration)),
    "events:ticket_pdf": Route(PUBLIC, token(lambda w: w.registration)),
    "events:certificate": Route(PUBLIC, token(lambda w: w.checked_in)),
    "events:cancel": Route(PUBLIC, token(lambda w: w.registration)),
    "events:cancel#post": Route(
        PUBLIC,
        token(lambda w: w.confirmed("events:cancel#post")),
        method="post",
        changed=lambda reg: _refetch(reg).status == Registration.Status.CANCELLED,
    ),
    "events:accept_offer": Route(
        PUBLIC,
        token(lambda w: w.offered("events:accept_offer")),
        method="post",
        changed=lambda reg: _refetch(reg).status == Registration.Status.CONFIRMED,
    ),
    "events:choose_table": Route(
        PUBLIC,
        token(lambda w: w.confirmed("events:choose_table")),
        method="post",
        data=lambda w, kw: {"table": w.other_table.pk},
        changed=lambda reg: _refetch(reg).table_id == reg.event.tables.order_by("position").last().pk,
    ),
    "events:delete_data": Route(PUBLIC, token(lambda w: w.registration)),
    "events:delete_data#post": Route(
        PUBLIC,
        token(lambda w: w.confirmed("events:delete_data#post")),
        method="post",
        changed=lambda reg: _refetch(reg).is_anonymised,
    ),
    "events:board": Route(PUBLIC, token(lambda w: w.registration, table_id=lambda w: w.table.pk)),
    "events:board#post": Route(
        PUBLIC,
        token(lambda w: w.confirmed("events:board#post"), table_id=lambda w: w.table.pk),
        method="post",
        data={"text": "Orari flessibili per chi accompagna i figli a scuola"},
        changed=lambda reg: Idea.objects.filter(registration=reg).exists(),
    ),
    "events:vote": Route(
        PUBLIC,
        token(lambda w: w.confirmed("events:vote"), idea_id=lambda w: w.idea.pk),
        method="post",
        data={"vote": "1"},
        changed=lambda reg: IdeaVote.objects.filter(registration=reg).exists(),
    ),
    # --- events: the staff ------------------------------------------------------------------------
    "events:check_in": Route(RESTRICTED, event_of(), may=DOOR_STAFF),
    "events:check_in#post": Route(
        RESTRICTED,
        event_of(),
        method="post",
        may=DOOR_STAFF,
        ok=200,
        data=lambda w, kw: {"code": w.confirmed("events:check_in#post").ticket_code},
        changed=lambda reg: _refetch(reg).checked_in_at is not None,
    ),
    "events:attendance": Route(RESTRICTED, event_of(), may=DOOR_STAFF),
    "events:manage": Route(RESTRICTED, event_of()),
    "events:manage#post": Route(
        RESTRICTED,
        event_of(),
        method="post",
        data=lambda w, kw: {
            "action": "move",
            "registration": w.confirmed("events:manage#post").pk,
            "table": w.other_table.pk,
        },
        changed=lambda reg: _refetch(reg).table_id == reg.event.tables.order_by("position").last().pk,
    ),
    "events:export#csv": Route(RESTRICTED, event_of(fmt=lambda w: "csv")),
    "events:export#xlsx": Route(RESTRICTED, event_of(fmt=lambda w: "xlsx")),
    "events:badges": Route(RESTRICTED, event_of()),
    "events:certificates": Route(RESTRICTED, event_of("started_event")),
    "events:new": Route(RESTRICTED, milano()),
    "events:new#post": Route(
        RESTRICTED,
        milano(),
        method="post",
        data=_new_event_form,
        changed=lambda slug: Event.objects.filter(slug=slug).exists(),
    ),
    "events:edit": Route(RESTRICTED, event_of()),
    "events:edit#post": Route(
        RESTRICTED,
        _edited_event,
        method="post",
        data=lambda w, kw: w.editor_form(reverse("events:edit", kwargs=kw), title=RENAMED),
        changed=lambda event: _refetch(event).title == RENAMED,
    ),
    # Hiding an idea is a POST to the public board page, which no sign-in guards: refused outright.
    "events:table_board#post": Route(
        RESTRICTED,
        event_of("started_event", table_id=lambda w: w.started_table.pk),
        method="post",
        data=lambda w, kw: {"idea": w.new_idea("events:table_board#post").pk, "hidden": "1"},
        anonymous=403,
        changed=lambda idea: _refetch(idea).is_hidden,
    ),
    "events:table_summary": Route(
        RESTRICTED, event_of("started_event", table_id=lambda w: w.started_table.pk), may=FACILITATORS
    ),
    "events:table_summary#post": Route(
        RESTRICTED,
        event_of("started_event", table_id=lambda w: w.started_table.pk),
        method="post",
        may=FACILITATORS,
        data=_summary_form,
        changed=lambda table: _refetch(table).summary == SUMMARY,
    ),
    # --- welfare: the public catalogue ------------------------------------------------------------
    "welfare:catalogue": Route(PUBLIC, milano()),
    "welfare:catalogue#search": Route(PUBLIC, milano(), data={"q": "yoga", "categoria": "f", "municipio": "3"}),
    "welfare:catalogue#near": Route(PUBLIC, milano(), data={"lat": "45.48", "lon": "9.22"}),
    "welfare:catalogue_map": Route(PUBLIC, milano()),
    "welfare:service": Route(PUBLIC, milano(slug=lambda w: w.service.slug)),
    # --- welfare: workers -------------------------------------------------------------------------
    "welfare:order": Route(
        RESTRICTED,
        _new_service("welfare:order"),
        method="post",
        may=WORKER,
        data=_order_form,
        changed=lambda service: Order.objects.filter(service=service).exists(),
    ),
    "welfare:propose_provider": Route(RESTRICTED, milano(), may=WORKER),
    "welfare:propose_provider#post": Route(
        RESTRICTED,
        milano(),
        method="post",
        may=WORKER,
        data=_proposal_form,
        changed=lambda name: ProviderProposal.objects.filter(name=name).exists(),
    ),
    # Everyone signed in has a page; it is empty for who is not an enrolled worker.
    "welfare:my_welfare": Route(SIGNED_IN),
    "welfare:refund_new": Route(SIGNED_IN),
    "welfare:refund_new#post": Route(
        RESTRICTED,
        method="post",
        may=WORKER,
        data=_refund_form,
        refused=200,  # the empty page again: no wallet to ask from
        changed=lambda description: RefundRequest.objects.filter(description=description).exists(),
    ),
    "welfare:declare_children": Route(
        RESTRICTED,
        lambda w: {"worker_id": w.touch("welfare:declare_children", w.worker).pk},
        method="post",
        may=WORKER,
        data=lambda w, kw: {f"w{w.worker.pk}-has_dependent_children": "on"},
        refused=404,
        changed=lambda worker: _refetch(worker).has_dependent_children,
    ),
    "welfare:refund_receipt": Route(
        RESTRICTED, lambda w: {"pk": w.refund.pk}, may=frozenset({"worker", "org_admin"}), refused=404
    ),
    "welfare:voucher": Route(RESTRICTED, lambda w: {"code": w.order.code}, may=BUYER_OR_PROVIDER, refused=404),
    "welfare:voucher_pdf": Route(RESTRICTED, lambda w: {"code": w.order.code}, may=BUYER_OR_PROVIDER, refused=404),
    "welfare:cancel_order": Route(
        RESTRICTED,
        lambda w: {"code": w.new_order("welfare:cancel_order").code},
        method="post",
        data={"reason": "Il servizio non si può rendere."},  # the provider's staff must say why
        may=BUYER_OR_PROVIDER,
        refused=404,
        changed=lambda order: _refetch(order).status == Order.Status.CANCELLED,
    ),
    # --- welfare: the firm's admin ----------------------------------------------------------------
    "welfare:organisation": Route(RESTRICTED, firm_welfare(), may=WELFARE_ADMIN),
    "welfare:plan_new": Route(RESTRICTED, firm_welfare(), may=WELFARE_ADMIN),
    "welfare:plan_new#post": Route(
        RESTRICTED,
        firm_welfare(),
        method="post",
        may=WELFARE_ADMIN,
        data=_plan_form("welfare:plan_new#post", "org_admin"),
        changed=lambda name: Plan.objects.filter(name=name).exists(),
    ),
    "welfare:plan_fund": Route(
        RESTRICTED,
        firm_welfare(plan_id=lambda w: w.plan.pk),
        method="post",
        may=WELFARE_ADMIN,
        data=_fund_form,
        changed=lambda key: Transfer.objects.filter(kind=Transfer.Kind.FUNDING, key__endswith=f":{key}").exists(),
    ),
    "welfare:plan_delete": Route(
        RESTRICTED,
        firm_welfare(plan_id=lambda w: w.touch("welfare:plan_delete", _unfunded_plan(w)).pk),
        may=WELFARE_ADMIN,
    ),
    "welfare:plan_delete#post": Route(
        RESTRICTED,
        firm_welfare(plan_id=lambda w: w.touch("welfare:plan_delete#post", _unfunded_plan(w)).pk),
        method="post",
        may=WELFARE_ADMIN,
        changed=lambda plan: not Plan.objects.filter(pk=plan.pk).exists(),
    ),
    "welfare:plan_join": Route(
        RESTRICTED,
        firm_welfare(plan_id=lambda w: w.touch("welfare:plan_join", w.pooled_plan).pk),
        method="post",
        may=WELFARE_ADMIN,
        changed=lambda plan: PlanParticipant.objects.filter(plan=plan).exists(),
    ),
    "welfare:worker_new": Route(
        RESTRICTED,
        firm_welfare(),
        method="post",
        may=WELFARE_ADMIN,
        data=_worker_form,
        changed=lambda code: Worker.objects.filter(tax_code=code).exists(),
    ),
    "welfare:worker_import": Route(
        RESTRICTED,
        firm_welfare(),
        method="post",
        may=WELFARE_ADMIN,
        data=_import_form,
        # The rows are kept for the background worker (it enrols them after the commit).
        changed=lambda code: any(row["tax_code"] == code for job in WorkerImport.objects.all() for row in job.rows),
    ),
    "welfare:worker_import_status": Route(
        RESTRICTED,
        firm_welfare(pk=lambda w: WorkerImport.objects.create(organisation=w.organisation, total=1).pk),
        may=WELFARE_ADMIN,
    ),
    "welfare:worker_category": Route(
        RESTRICTED,
        firm_welfare(worker_id=lambda w: w.touch("welfare:worker_category", w.worker).pk),
        method="post",
        may=WELFARE_ADMIN,
        data=lambda w, kw: {"category": "quadri"},
        changed=lambda worker: _refetch(worker).category == "quadri",
    ),
    "welfare:refund_decide": Route(
        RESTRICTED,
        firm_welfare(pk=lambda w: w.pending_refund("welfare:refund_decide").pk),
        method="post",
        may=WELFARE_ADMIN,
        data={"decision": "approve", "reason": ""},
        changed=lambda refund: _refetch(refund).status == RefundRequest.Status.APPROVED,
    ),
    "welfare:payroll_export": Route(
        RESTRICTED, firm_welfare(year=lambda w: timezone.localdate().year - 1), may=WELFARE_ADMIN
    ),
    # --- welfare: the provider's desk -------------------------------------------------------------
    "welfare:provider": Route(RESTRICTED, provider_desk(), may=PROVIDER_STAFF),
    "welfare:provider#post": Route(
        RESTRICTED,
        provider_desk(),
        method="post",
        may=PROVIDER_STAFF,
        data=lambda w, kw: {"code": w.new_order("welfare:provider#post").code},
        changed=lambda order: _refetch(order).status == Order.Status.REDEEMED,
    ),
    "welfare:service_new": Route(RESTRICTED, provider_desk(), may=PROVIDER_STAFF),
    "welfare:service_new#post": Route(
        RESTRICTED,
        provider_desk(),
        method="post",
        may=PROVIDER_STAFF,
        data=_service_form,
        changed=lambda slug: Service.objects.filter(slug=slug).exists(),
    ),
    "welfare:service_edit": Route(RESTRICTED, provider_desk(service_slug=lambda w: w.service.slug), may=PROVIDER_STAFF),
    "welfare:service_edit#post": Route(
        RESTRICTED,
        _edited_service,
        method="post",
        may=PROVIDER_STAFF,
        data=lambda w, kw: w.form_as(
            "provider_staff", reverse("welfare:service_edit", kwargs=kw), title=SERVICE_RENAMED
        ),
        changed=lambda service: _refetch(service).title == SERVICE_RENAMED,
    ),
    "welfare:statement#pdf": Route(RESTRICTED, this_month("pdf"), may=PROVIDER_STAFF),
    "welfare:statement#csv": Route(RESTRICTED, this_month("csv"), may=PROVIDER_STAFF),
    # --- welfare: the coordinator -----------------------------------------------------------------
    "welfare:coordination": Route(RESTRICTED, milano()),
    "welfare:pooled_plan_new": Route(RESTRICTED, milano()),
    "welfare:pooled_plan_new#post": Route(
        RESTRICTED,
        milano(),
        method="post",
        data=_plan_form("welfare:pooled_plan_new#post", "coordinator"),
        changed=lambda name: Plan.objects.filter(name=name, organisation=None).exists(),
    ),
    "welfare:provider_payout": Route(
        RESTRICTED,
        lambda w: w.unpaid_month("welfare:provider_payout"),
        method="post",
        changed=lambda provider: Payout.objects.filter(provider=provider).exists(),
    ),
    "welfare:proposal_decide": Route(
        RESTRICTED,
        milano(pk=lambda w: w.proposal("welfare:proposal_decide").pk),
        method="post",
        data={"decision": "invite"},
        changed=lambda proposal: _refetch(proposal).status == ProviderProposal.Status.INVITED,
    ),
}


def url_name(key: str) -> str:
    return key.partition("#")[0]


def allowed(visitor: str, route: Route) -> bool:
    if route.access == PUBLIC:
        return True
    if visitor == ANONYMOUS:
        return False
    return route.access == SIGNED_IN or visitor in route.may


def expected(visitor: str, route: Route) -> int | str:
    if allowed(visitor, route):
        return route.ok or (302 if route.method == "post" else 200)
    if visitor == ANONYMOUS:
        return route.anonymous
    return route.refused


def outcome(response) -> int | str:
    if response.status_code == 302 and response.url.startswith(reverse("account_login") + "?next="):
        return LOGIN
    return response.status_code


def app_url_names() -> set[str]:
    names = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name and namespace in APP_NAMESPACES:
                names.add(f"{namespace}:{pattern.name}")

    walk(get_resolver().url_patterns, None)
    return names


def test_every_named_url_of_our_apps_is_in_the_walk():
    assert app_url_names() == {url_name(key) for key in ROUTES}


@pytest.fixture
def visitor_user(request, personas, other_coordinator):
    def user(visitor: str):
        if visitor == ANONYMOUS:
            return None
        return other_coordinator if visitor == "other_coordinator" else personas[visitor]

    return user


@pytest.mark.parametrize("visitor", VISITORS)
def test_persona_walk(visitor, client_as, visitor_user, world):
    client = client_as(visitor_user(visitor))
    seen, wanted = {}, {}
    for key, route in ROUTES.items():
        kwargs = route.kwargs(world)
        data = route.data(world, kwargs) if callable(route.data) else route.data
        response = getattr(client, route.method)(reverse(url_name(key), kwargs=kwargs), data or {})
        seen[key], wanted[key] = outcome(response), expected(visitor, route)
    assert seen == wanted

    # The requests made for join_request (GET), approve and reject (POST), in that order.
    statuses = [JoinRequest.objects.get(pk=jr.pk).status for jr in world.join_requests]
    if visitor == "coordinator":
        assert statuses == ["pending", "approved", "rejected"]
    else:
        assert statuses == ["pending", "pending", "pending"]

    # Each state-changing POST changed what it acted on if, and only if, the visitor was let in.
    changes = {key: route for key, route in ROUTES.items() if route.changed}
    assert set(changes) <= set(world.touched), "every state-changing row records what it acted on"
    did = {key: route.changed(world.touched[key]) for key, route in changes.items()}
    assert did == {key: allowed(visitor, route) for key, route in changes.items()}


def test_bergamo_coordinator_cannot_reach_a_milan_request_through_bergamo_urls(client_as, other_coordinator, world):
    jr = world.pending_join_request()
    client = client_as(other_coordinator)
    bergamo = {"territory": "bergamo", "pk": jr.pk}

    assert client.get(reverse("network:join_request", kwargs=bergamo)).status_code == 404
    assert client.post(reverse("network:approve_join_request", kwargs=bergamo)).status_code == 404
    assert client.post(reverse("network:reject_join_request", kwargs=bergamo), {"reason": "No"}).status_code == 404
    jr.refresh_from_db()
    assert jr.status == "pending"
    assert not Organisation.objects.filter(name=jr.name).exists()

    listing = client.get(reverse("network:join_requests", kwargs={"territory": "bergamo"}))
    assert listing.status_code == 200
    assert jr.name not in listing.content.decode()


def test_bergamo_coordinator_cannot_reach_a_milan_event_through_bergamo_urls(client_as, other_coordinator, world):
    event, reg = world.event, world.confirmed("bergamo")
    client = client_as(other_coordinator)
    bergamo = {"territory": "bergamo", "slug": event.slug}

    for name in (
        "events:event",
        "events:register",
        "events:manage",
        "events:check_in",
        "events:attendance",
        "events:edit",
        "events:badges",
        "events:certificates",
    ):
        assert client.get(reverse(name, kwargs=bergamo)).status_code == 404, name
    for fmt in ("csv", "xlsx"):
        assert client.get(reverse("events:export", kwargs={**bergamo, "fmt": fmt})).status_code == 404
    table = {**bergamo, "table_id": world.table.pk}
    assert client.get(reverse("events:table_board", kwargs=table)).status_code == 404
    assert client.get(reverse("events:table_summary", kwargs=table)).status_code == 404

    assert client.post(reverse("events:check_in", kwargs=bergamo), {"code": reg.ticket_code}).status_code == 404
    move = {"action": "move", "registration": reg.pk, "table": world.other_table.pk}
    assert client.post(reverse("events:manage", kwargs=bergamo), move).status_code == 404
    assert (
        client.post(reverse("events:table_board", kwargs=table), {"idea": world.idea.pk, "hidden": "1"}).status_code
        == 404
    )
    assert client.post(reverse("events:table_summary", kwargs=table), {"summary": "Da Bergamo"}).status_code == 404
    reg.refresh_from_db()
    world.idea.refresh_from_db()
    assert (reg.checked_in_at, reg.table_id, world.idea.is_hidden) == (None, None, False)
    assert not WorkingTable.objects.filter(summary="Da Bergamo").exists()


def test_bergamo_coordinator_cannot_reach_milan_welfare_through_bergamo_urls(client_as, other_coordinator, world):
    proposal = world.proposal("bergamo")
    client = client_as(other_coordinator)
    firm = {"territory": "bergamo", "slug": world.organisation.slug}
    coop = {"territory": "bergamo", "slug": world.service.provider.slug}

    assert client.get(reverse("welfare:service", kwargs={**coop, "slug": world.service.slug})).status_code == 404
    for name, kwargs in [
        ("welfare:organisation", firm),
        ("welfare:plan_new", firm),
        ("welfare:payroll_export", {**firm, "year": timezone.localdate().year - 1}),
        ("welfare:provider", coop),
        ("welfare:service_new", coop),
        ("welfare:service_edit", {**coop, "service_slug": world.service.slug}),
    ]:
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 404, name
    decide = reverse("welfare:proposal_decide", kwargs={"territory": "bergamo", "pk": proposal.pk})
    assert client.post(decide, {"decision": "invite"}).status_code == 404
    redeem = reverse("welfare:provider", kwargs=coop)
    assert client.post(redeem, {"code": world.order.code}).status_code == 404
    approve = reverse("welfare:refund_decide", kwargs={**firm, "pk": world.refund.pk})
    assert client.post(approve, {"decision": "approve"}).status_code == 404
    assert _refetch(proposal).status == ProviderProposal.Status.NEW
    assert _refetch(world.order).status == Order.Status.ISSUED
    assert _refetch(world.refund).status == RefundRequest.Status.PENDING


def test_milan_coordinator_is_refused_on_bergamo_coordination_pages(client_as, personas, other_territory):
    client = client_as(personas["coordinator"])
    for name in ("network:join_requests", "network:audit_log"):
        assert client.get(reverse(name, kwargs={"territory": "bergamo"})).status_code == 403


def test_coordination_pages_of_an_unknown_or_inactive_territory_are_404(client_as, personas, other_territory):
    other_territory.is_active = False
    other_territory.save()
    client = client_as(personas["coordinator"])
    assert client.get(reverse("network:join_requests", kwargs={"territory": "roma"})).status_code == 404
    assert client.get(reverse("network:join_requests", kwargs={"territory": "bergamo"})).status_code == 404


# --- accounts.permissions.can(): every permission × persona × place ------------------------------

# Who may, per permission and place; everyone else (the anonymous visitor included) may not.
MAY: dict[tuple[Perm, str], set[str]] = {
    (Perm.REVIEW_JOIN_REQUESTS, "milano"): {"coordinator"},
    (Perm.REVIEW_JOIN_REQUESTS, "bergamo"): {"other_coordinator"},
    (Perm.VIEW_AUDIT_LOG, "milano"): {"coordinator"},
    (Perm.VIEW_AUDIT_LOG, "bergamo"): {"other_coordinator"},
    (Perm.MANAGE_CONTENT, "milano"): {"coordinator"},
    (Perm.MANAGE_CONTENT, "bergamo"): {"other_coordinator"},
    (Perm.MANAGE_EVENTS, "milano"): {"coordinator"},
    (Perm.MANAGE_EVENTS, "bergamo"): {"other_coordinator"},
    # Staff of an organising organisation check people in; the cooperative's provider staff and
    # helpdesk hold neither org_admin nor org_staff, so only the coordinator can at its event.
    (Perm.CHECK_IN_ATTENDEES, "firm_event"): {"coordinator", "org_admin", "org_staff"},
    (Perm.CHECK_IN_ATTENDEES, "coop_event"): {"coordinator"},
    (Perm.CHECK_IN_ATTENDEES, "unorganised_event"): {"coordinator"},
    (Perm.CHECK_IN_ATTENDEES, "bergamo_event"): {"other_coordinator"},
    (Perm.VIEW_ORGANISATION_DASHBOARD, "firm"): {"coordinator", "org_admin", "org_staff"},
    (Perm.VIEW_ORGANISATION_DASHBOARD, "coop"): {"coordinator", "provider_staff"},
    (Perm.VIEW_ORGANISATION_DASHBOARD, "bergamo_org"): {"other_coordinator"},
    (Perm.EDIT_ORGANISATION, "firm"): {"coordinator", "org_admin"},
    (Perm.EDIT_ORGANISATION, "coop"): {"coordinator"},
    (Perm.EDIT_ORGANISATION, "bergamo_org"): {"other_coordinator"},
    (Perm.MANAGE_NETWORK_WELFARE, "milano"): {"coordinator"},
    (Perm.MANAGE_NETWORK_WELFARE, "bergamo"): {"other_coordinator"},
    (Perm.MANAGE_MEMBERS, "milano"): {"coordinator"},
    (Perm.MANAGE_MEMBERS, "bergamo"): {"other_coordinator"},
    # Workers' enrolment, refunds and a provider's buyers stay with the organisation's own roles
    # (OWN_ORGANISATION_ONLY): no coordinator, of this territory or another, may.
    (Perm.MANAGE_WELFARE, "firm"): {"org_admin"},
    (Perm.MANAGE_WELFARE, "coop"): set(),
    (Perm.MANAGE_WELFARE, "bergamo_org"): set(),
    (Perm.MANAGE_SERVICES, "firm"): {"org_admin"},
    (Perm.MANAGE_SERVICES, "coop"): {"provider_staff"},
    (Perm.MANAGE_SERVICES, "bergamo_org"): set(),
    (Perm.REDEEM_VOUCHERS, "firm"): {"org_admin", "org_staff"},
    (Perm.REDEEM_VOUCHERS, "coop"): {"provider_staff"},
    (Perm.REDEEM_VOUCHERS, "bergamo_org"): set(),
}
TERRITORIES = {"milano", "bergamo"}
EVENTS = {"firm_event", "coop_event", "unorganised_event", "bergamo_event"}


def test_every_permission_is_in_the_table():
    assert {perm for perm, _place in MAY} == set(Perm)


@pytest.fixture
def places(territory, other_territory, firm, coop) -> dict[str, object]:
    bergamo_org = make_organisation(other_territory, "Comune di Bergamo", kind="public_body", network_role="lead")

    def event(where, slug, *organisers):
        starts = timezone.now() + timedelta(days=7)
        made = Event.objects.create(
            territory=where,
            slug=slug,
            title=slug,
            summary="…",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            capacity=50,
        )
        made.organisers.set(organisers)
        return made

    return {
        "milano": territory,
        "bergamo": other_territory,
        "firm": firm,
        "coop": coop,
        "bergamo_org": bergamo_org,
        "firm_event": event(territory, "open-day-officine", firm),
        "coop_event": event(territory, "merenda-in-coop", coop),
        "unorganised_event": event(territory, "assemblea-della-rete"),
        "bergamo_event": event(other_territory, "assemblea-bergamo", bergamo_org),
    }


@pytest.mark.parametrize(("perm", "place"), list(MAY), ids=[f"{p}-{w}" for p, w in MAY])
def test_can(perm, place, places, personas, other_coordinator):
    users = {ANONYMOUS: AnonymousUser(), **personas, "other_coordinator": other_coordinator}
    kind = "territory" if place in TERRITORIES else "event" if place in EVENTS else "organisation"
    scope = {kind: places[place]}
    allowed = {name for name, user in users.items() if can(user, perm, **scope)}
    assert allowed == MAY[perm, place]


def test_a_deactivated_coordinator_may_do_nothing(personas, territory):
    coordinator = personas["coordinator"]
    coordinator.is_active = False
    coordinator.save()
    assert not can(coordinator, Perm.REVIEW_JOIN_REQUESTS, territory=territory)


def test_permission_questions_need_a_place(personas, firm):
    with pytest.raises(ValueError):
        can(personas["coordinator"], Perm.REVIEW_JOIN_REQUESTS)
    with pytest.raises(ValueError):
        can(personas["org_admin"], Perm.EDIT_ORGANISATION, territory=firm.territory)
    with pytest.raises(ValueError):
        can(personas["org_staff"], Perm.CHECK_IN_ATTENDEES, organisation=firm)
