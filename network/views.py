from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.template import Context
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from accounts.permissions import Perm, can, require
from core import audit
from core.audit_labels import ACTION_LABELS
from core.cache import fragments, public_data, public_page, public_pages_version
from core.forms import typed_text
from core.htmx import wants_fragment
from core.links import slug_url_maker
from core.models import PERSONAL_ACTIONS, AuditLog, Municipio
from core.pdf import render_pdf
from core.ratelimit import retry_after
from core.territories import territory_view
from core.text import render_markdown
from events.models import Event
from welfare.models import Service

from . import services
from .forms import (
    ArticleForm,
    DirectoryFilterForm,
    JoinRequestForm,
    OrganisationMembershipForm,
    OrganisationProfileForm,
    RejectJoinRequestForm,
)
from .models import Article, JoinRequest, Organisation

PAGE_SIZE = 20
CARD_FIELDS = ("name", "slug", "kind", "size_class", "network_role", "municipio", "updated_at")
DEEP_PAGE_OFFSET = 200
MAP_POINTS_MAX = 2000
# Public join form: a real organisation applies once; this only stops floods from one address.
JOIN_LIMIT_PER_HOUR = 10


def _municipi(request: HttpRequest) -> dict[int, tuple[int, str]]:
    """The territory's Municipi, number -> (id, name), for the filter's choices and the cards."""
    territory = request.territory

    def build():
        rows = Municipio.objects.filter(territory=territory).order_by("number").values_list("number", "id", "name")
        return {number: (pk, name) for number, pk, name in rows}

    return public_data(request, f"municipi:{territory.pk}", build)


def _filtered_directory(request: HttpRequest):
    """The directory's filter form and the organisations it selects, for the page and its map."""
    territory = request.territory
    municipi = _municipi(request)
    form = DirectoryFilterForm(
        request.GET or None, municipi=[(number, name) for number, (_id, name) in municipi.items()]
    )
    organisations = Organisation.objects.in_territory(territory).active()
    # Filters that validate still apply when another one does not (its error shows by its field).
    form.is_valid()
    valid = getattr(form, "cleaned_data", {})  # an unbound form (no filters) has none
    filters = {name: valid.get(name) for name in ("q", "kind", "role", "municipio")}
    organisations = organisations.directory(**{k: v for k, v in filters.items() if v})
    return form, organisations


@require_safe
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
@public_page
@territory_view
def directory(request: HttpRequest) -> HttpResponse:
    public_pages_version(request)  # before any row is read: see _cards()
    form, organisations = _filtered_directory(request)
    ordered = organisations.order_by("name", "pk")
    # Only what a card shows: descriptions are long, and the rows are sorted as they are read.
    cards = ordered.only(*CARD_FIELDS)
    page = Paginator(cards, PAGE_SIZE).get_page(request.GET.get("page"))
    if page.start_index() > DEEP_PAGE_OFFSET:
        # Far into the list PostgreSQL reads and sorts every row before the OFFSET (page 150 took
        # 4 ms of its time). The page's ids alone come from the index on (name, id) in order, then
        # only those rows are read: under 1 ms. Nearer the start the plain query is cheaper to build.
        ids = ordered.values("pk")[page.start_index() - 1 : page.end_index()]
        page.object_list = Organisation.objects.filter(pk__in=ids).only(*CARD_FIELDS).order_by("name", "pk")
    query = request.GET.copy()
    query.pop("page", None)
    cards = _cards(request, page.object_list, municipi=_municipi(request))
    context = {"form": form, "page": page, "cards": cards, "query": query.urlencode()}
    if wants_fragment(request):
        # `fragment`: what goes out of band with it (the count read out, the language links) goes only then.
        return render(request, "network/directory.html#results", {**context, "fragment": True})
    return render(request, "network/directory.html", context)


def _cards(request: HttpRequest, organisations, *, municipi: dict[int, tuple[int, str]]) -> list[str]:
    """The result cards' HTML, most of them from the shared cache.

    A card is the same on every page that lists its organisation, and its rendering was half of a
    cold directory page. The key is the organisation's id and last change (updated_at), in the
    request's language, under the public-pages version (a renamed Municipio changes cards too).
    The Municipio's name comes from the territory's cached list instead of a join.
    """
    url_of = slug_url_maker("network:organisation", request.territory.slug)
    municipio_names = dict(municipi.values())
    template = get_template("network/directory.html#card").template

    def render_card(organisation: Organisation) -> str:
        organisation.url = url_of(organisation.slug)
        organisation.municipio_name = municipio_names.get(organisation.municipio_id, "")
        return template.render(Context({"org": organisation}))

    organisations = {f"{o.pk}:{o.updated_at.timestamp()}": o for o in organisations}
    html = fragments(request, "directory-card", organisations, render_card)
    return [mark_safe(html[key]) for key in organisations]  # noqa: S308 (escaped when rendered)


@require_safe
@public_page
@territory_view
def directory_map(request: HttpRequest) -> JsonResponse:
    """Map markers for the directory's current filters, fetched by the map script.

    Kept off the page itself so the list stays fast; the list is the accessible equivalent.
    """
    territory = request.territory
    _form, organisations = _filtered_directory(request)
    located = organisations.filter(latitude__isnull=False, longitude__isnull=False).order_by("name")
    url_of = slug_url_maker("network:organisation", territory.slug)
    points = [
        {"name": name, "lat": float(lat), "lon": float(lon), "url": url_of(slug)}
        for name, slug, lat, lon in located.values_list("name", "slug", "latitude", "longitude")[:MAP_POINTS_MAX]
    ]
    response = JsonResponse({"points": points, "truncated": len(points) == MAP_POINTS_MAX})
    response["Cache-Control"] = "public, max-age=300"
    return response


def _organisation_context(request: HttpRequest, slug: str) -> dict:
    organisation = get_object_or_404(
        Organisation.objects.in_territory(request.territory).active().select_related("municipio", "territory"),
        slug=slug,
    )
    return {
        "organisation": organisation,
        "description": render_markdown(organisation.description),
        "can_edit": can(request.user, Perm.EDIT_ORGANISATION, organisation=organisation),
        # A provider's page leads to what it offers in the welfare catalogue (and each service back here).
        "services": list(Service.objects.published().filter(provider=organisation).order_by("title", "pk")
                         .only("title", "slug", "price_cents")),
    }


@require_safe
@public_page
@territory_view
def organisation(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "network/organisation.html", _organisation_context(request, slug))


@require_http_methods(["GET", "POST"])
@login_required
@territory_view
def organisation_edit(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = get_object_or_404(Organisation.objects.in_territory(request.territory), slug=slug)
    require(request.user, Perm.EDIT_ORGANISATION, organisation=organisation)
    form_class = (OrganisationMembershipForm if can(request.user, Perm.MANAGE_MEMBERS, territory=request.territory)
                  else OrganisationProfileForm)
    form = form_class(request.POST or None, request.FILES or None, instance=organisation)
    was_active = organisation.is_active
    if request.method == "POST" and form.is_valid():
        services.update_organisation_profile(organisation=organisation, data=form.cleaned_data, actor=request.user)
        organisation.refresh_from_db(fields=["is_active"])
        if not organisation.is_active:
            # Its public page is gone with it: say so, and keep the way back (this form) at hand.
            messages.success(request, format_html(
                _("{name} non fa più parte della rete: la sua scheda non è più pubblica. La ritrovi tra le "
                  "<a href=\"{url}\">organizzazioni fuori dalla rete</a>, da dove puoi riammetterla."),
                name=organisation.name,
                url=reverse("network:members", kwargs={"territory": request.territory.slug}) + "?stato=out",
            ))
            return redirect("network:directory", territory=request.territory.slug)
        if not was_active:
            messages.success(request, _("%(name)s è di nuovo nella rete: la sua scheda è di nuovo pubblica.")
                             % {"name": organisation.name})
        else:
            messages.success(request, _("Scheda aggiornata."))
        return redirect(organisation)
    # The form changed the instance in memory while validating: show the stored values around it.
    organisation.refresh_from_db()
    return render(
        request,
        "network/organisation_edit.html",
        {"organisation": organisation, "form": form},
        status=422 if form.errors else 200,
    )


@require_safe
@territory_view
def organisation_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    context = _organisation_context(request, slug)
    return render_pdf(request, "network/organisation_pdf.html", context, filename=context["organisation"].name,
                      page_url=context["organisation"].get_absolute_url())


@require_http_methods(["GET", "POST"])
@territory_view
def join(request: HttpRequest) -> HttpResponse:
    territory = request.territory
    form = JoinRequestForm(request.POST or None, territory=territory)
    if request.method == "POST" and form.is_valid():
        # Only applications that would be stored count: someone correcting a typo is not a flood.
        wait = retry_after(request, scope="join", limit=JOIN_LIMIT_PER_HOUR, period=3600)
        if wait is not None:
            minutes = wait // 60 + 1
            form.add_error(None, ngettext(
                "Troppe richieste inviate da questa connessione: riprova tra %(minutes)s minuto. Quello che hai scritto è qui sotto.",
                "Troppe richieste inviate da questa connessione: riprova tra %(minutes)s minuti. Quello che hai scritto è qui sotto.",
                minutes) % {"minutes": minutes})
            response = render(request, "network/join.html", {"form": form}, status=429)
            response["Retry-After"] = str(wait)
            return response
        data = {k: v for k, v in form.cleaned_data.items() if k != "privacy_acknowledged"}
        try:
            services.submit_join_request(
                territory=territory, data=data, actor=request.user if request.user.is_authenticated else None
            )
        except services.JoinRequestPending:
            form.add_error("tax_code", _("Per questa organizzazione c'è già una richiesta di adesione in esame."))
        else:
            return redirect("network:join_thanks", territory=territory.slug)
    return render(request, "network/join.html", {"form": form}, status=422 if form.errors else 200)


@require_safe
@territory_view
def join_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "network/join_thanks.html")


@require_safe
@login_required
@territory_view
def coordination(request: HttpRequest) -> HttpResponse:
    """The coordinators' starting point: what waits for them, and the way to each of their pages."""
    territory = request.territory
    require(request.user, Perm.MANAGE_MEMBERS, territory=territory)
    waiting = {
        "join_requests": JoinRequest.objects.filter(territory=territory, status=JoinRequest.Status.PENDING).count(),
        "drafts": Article.objects.filter(territory=territory, published_at__isnull=True).count(),
        "upcoming_events": Event.objects.in_territory(territory).upcoming().count(),
        "members": Organisation.objects.in_territory(territory).active().count(),
        "former_members": Organisation.objects.in_territory(territory).filter(is_active=False).count(),
    }
    return render(request, "network/coordination.html", {"waiting": waiting})


@require_safe
@login_required
@territory_view
def members(request: HttpRequest) -> HttpResponse:
    """Every organisation of the territory, those out of the network too: the way back to them."""
    require(request.user, Perm.MANAGE_MEMBERS, territory=request.territory)
    state = request.GET.get("stato", "in")
    if state not in ("in", "out"):
        state = "in"
    organisations = Organisation.objects.in_territory(request.territory).filter(is_active=state == "in")
    text = typed_text(request.GET.get("q"), max_length=100)
    if text:
        organisations = organisations.filter(name__icontains=text)
    page = Paginator(organisations.order_by("name", "pk").only(*CARD_FIELDS, "is_active"), 50).get_page(
        request.GET.get("page"))
    query = QueryDict(mutable=True)
    query.update({k: v for k, v in {"stato": state, "q": text}.items() if v})
    return render(request, "network/members.html", {"page": page, "state": state, "q": text, "query": query.urlencode()})


@require_safe
@login_required
@territory_view
def join_requests(request: HttpRequest) -> HttpResponse:
    require(request.user, Perm.REVIEW_JOIN_REQUESTS, territory=request.territory)
    status = request.GET.get("status", JoinRequest.Status.PENDING)
    if status not in JoinRequest.Status.values:
        status = JoinRequest.Status.PENDING
    requests = JoinRequest.objects.filter(territory=request.territory, status=status)
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "network/join_requests.html", {"page": page, "status": status, "statuses": JoinRequest.Status.choices}
    )


def _join_request_for_coordinator(request: HttpRequest, pk: int) -> JoinRequest:
    require(request.user, Perm.REVIEW_JOIN_REQUESTS, territory=request.territory)
    return get_object_or_404(
        JoinRequest.objects.select_related("municipio", "organisation"), pk=pk, territory=request.territory
    )


@require_safe
@login_required
@territory_view
def join_request(request: HttpRequest, pk: int) -> HttpResponse:
    jr = _join_request_for_coordinator(request, pk)
    return render(request, "network/join_request.html", {"jr": jr, "reject_form": RejectJoinRequestForm()})


@require_POST
@login_required
@territory_view
def approve_join_request(request: HttpRequest, pk: int) -> HttpResponse:
    jr = _join_request_for_coordinator(request, pk)
    try:
        organisation = services.approve_join_request(join_request=jr, actor=request.user)
    except services.JoinRequestAlreadyDecided:
        messages.error(request, _("Questa richiesta è già stata decisa."))
        return redirect("network:join_request", territory=request.territory.slug, pk=pk)
    except services.AlreadyMember as exc:
        messages.error(request, _("%(name)s, con lo stesso codice fiscale, fa già parte della rete: respingi la "
                                  "richiesta spiegando a chi rivolgersi.") % {"name": exc.organisation.name})
        return redirect("network:join_request", territory=request.territory.slug, pk=pk)
    messages.success(request, _("Richiesta approvata: %(name)s fa ora parte della rete.") % {"name": organisation.name})
    return redirect("network:join_requests", territory=request.territory.slug)


@require_POST
@login_required
@territory_view
def reject_join_request(request: HttpRequest, pk: int) -> HttpResponse:
    jr = _join_request_for_coordinator(request, pk)
    form = RejectJoinRequestForm(request.POST)
    if not form.is_valid():
        return render(request, "network/join_request.html", {"jr": jr, "reject_form": form}, status=422)
    try:
        services.reject_join_request(join_request=jr, actor=request.user, reason=form.cleaned_data["reason"])
    except services.JoinRequestAlreadyDecided:
        messages.error(request, _("Questa richiesta è già stata decisa."))
        return redirect("network:join_request", territory=request.territory.slug, pk=pk)
    messages.success(request, _("Richiesta respinta; il richiedente riceverà il motivo per email."))
    return redirect("network:join_requests", territory=request.territory.slug)


@require_safe
@login_required
@territory_view
def audit_log(request: HttpRequest) -> HttpResponse:
    require(request.user, Perm.VIEW_AUDIT_LOG, territory=request.territory)
    entries = AuditLog.objects.in_territory(request.territory).for_coordinators()
    action = typed_text(request.GET.get("action"), max_length=100)
    if action:
        entries = entries.filter(action__startswith=action)
    text = typed_text(request.GET.get("q"), max_length=100)
    if text:
        # What people type: a word of the action's name in their language, of who did it or of what.
        folded = text.casefold()
        actions = [code for code, label in ACTION_LABELS.items() if folded in str(label).casefold()]
        entries = entries.filter(
            Q(action__in=actions) | Q(actor_label__icontains=text) | Q(object_repr__icontains=text)
            | Q(action__icontains=text)
        )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    ids = set().union(*(entry.organisation_ids() for entry in page.object_list))
    names = dict(Organisation.objects.filter(pk__in=ids, territory=request.territory).values_list("pk", "name"))
    for entry in page.object_list:
        entry.details = entry.describe_changes(names)
    query = QueryDict(mutable=True)
    query.update({k: v for k, v in {"action": action, "q": text}.items() if v})
    # The filter's choices: every action by its label (the code stays in the URL and in the row).
    # Those the coordinators never see (a worker's purchases: PERSONAL_ACTIONS) are not offered either.
    actions = sorted(((code, str(label)) for code, label in ACTION_LABELS.items() if not code.startswith(PERSONAL_ACTIONS)),
                     key=lambda item: item[1].casefold())
    return render(request, "network/audit_log.html",
                  {"page": page, "action": action, "q": text, "query": query.urlencode(), "actions": actions})


@require_safe
@public_page
@territory_view
def articles(request: HttpRequest) -> HttpResponse:
    items = Article.objects.published().filter(territory=request.territory)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "network/articles.html", {"page": page})


def _article_context(request: HttpRequest, slug: str) -> dict:
    article = get_object_or_404(Article.objects.published(), territory=request.territory, slug=slug)
    return {"article": article, "body": render_markdown(article.localized_body)}


@require_safe
@public_page
@territory_view
def article(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "network/article.html", _article_context(request, slug))


@require_safe
@territory_view
def article_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    context = _article_context(request, slug)
    return render_pdf(request, "network/article_pdf.html", context, filename=context["article"].localized_title,
                      page_url=context["article"].get_absolute_url())


# --- the coordinators' news desk ----------------------------------------------------------------------


@require_safe
@login_required
@territory_view
def manage_articles(request: HttpRequest) -> HttpResponse:
    require(request.user, Perm.MANAGE_CONTENT, territory=request.territory)
    items = Article.objects.filter(territory=request.territory).order_by(
        F("published_at").desc(nulls_first=True), "-updated_at", "-pk"
    )
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "network/manage_articles.html", {"page": page, "now": timezone.now()})


def _article_for_coordinator(request: HttpRequest, pk: int) -> Article:
    require(request.user, Perm.MANAGE_CONTENT, territory=request.territory)
    return get_object_or_404(Article, pk=pk, territory=request.territory)


@require_http_methods(["GET", "POST"])
@login_required
@territory_view
def article_new(request: HttpRequest) -> HttpResponse:
    require(request.user, Perm.MANAGE_CONTENT, territory=request.territory)
    return _article_editor(request, Article(territory=request.territory))


@require_http_methods(["GET", "POST"])
@login_required
@territory_view
def article_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _article_editor(request, _article_for_coordinator(request, pk))


# The editor's buttons: what happens to the article's publication when it is saved; "preview" saves nothing.
ARTICLE_ACTIONS = ("save", "publish", "unpublish", "preview")


def _article_editor(request: HttpRequest, article: Article) -> HttpResponse:
    is_new = article.pk is None
    stored = {"published_at": article.published_at, "is_published": article.is_published,
              "was_scheduled": article.published_at is not None and not article.is_published}
    action = request.POST.get("action", "save")
    form = ArticleForm(request.POST if request.method == "POST" else None, instance=article, action=action,
                       initial={"version": services.article_version(article)})
    preview = None
    if request.method == "POST" and action not in ARTICLE_ACTIONS:
        form.add_error(None, _("Il modulo non è più valido (forse è rimasto aperto a lungo): ricarica la pagina e riprova."))
    elif request.method == "POST" and form.is_valid() and action == "preview":
        preview = _article_preview(form.cleaned_data)
    elif request.method == "POST" and form.is_valid():
        when = form.cleaned_data["published_at"]
        published_at = {"save": services.KEEP, "publish": when or timezone.now(), "unpublish": None}[action]
        try:
            article = services.save_article(
                territory=request.territory, article=None if is_new else article,
                data={field: form.cleaned_data[field] for field in services.ARTICLE_FIELDS},
                actor=request.user, published_at=published_at,
                version=None if is_new else form.cleaned_data["version"],
            )
        except Article.DoesNotExist:  # deleted by someone else while this form was open
            raise Http404 from None
        except services.ArticleEditedMeanwhile as conflict:
            _show_article_conflict(article, form, current_version=conflict.current_version)
        else:
            messages.success(request, _article_saved_message(article, action, was_scheduled=stored["was_scheduled"]))
            return redirect("network:article_edit", territory=request.territory.slug, pk=article.pk)
    if not is_new:
        # Validation copied the typed values onto the instance: the page around the form shows the stored ones.
        article.refresh_from_db()
    refused = request.method == "POST" and preview is None
    return render(request, "network/article_form.html", {
        "article": article, "is_new": is_new, "form": form, "now": timezone.now(), "preview": preview,
        "field_errors": any(name != "__all__" for name in form.errors), **stored,
    }, status=422 if refused else 200)


def _article_preview(data: dict) -> dict:
    """The typed text as the public page will show it, in each language written."""
    return {
        "it": {"title": data["title"], "summary": data["summary"], "body": render_markdown(data["body"])},
        "en": {"title": data["title_en"], "summary": data["summary_en"], "body": render_markdown(data["body_en"])}
        if data["title_en"] or data["body_en"] else None,
    }


def _when(moment) -> str:
    """A moment as the news desk writes it everywhere: "7 dicembre 2026, 10:00"."""
    return date_format(timezone.localtime(moment), "j F Y, H:i")


def _article_saved_message(article: Article, action: str, *, was_scheduled: bool) -> str:
    if action == "unpublish" and was_scheduled:
        return _("Programmazione annullata: la notizia è di nuovo una bozza e non uscirà finché non la pubblichi.")
    if action == "unpublish":
        return _("Notizia ritirata: ora è una bozza, e la sua pagina pubblica non c'è più.")
    if article.published_at is None:
        return _("Bozza salvata: non è visibile al pubblico finché non la pubblichi.")
    if not article.is_published:
        return _("Notizia programmata: uscirà il %(when)s.") % {"when": _when(article.published_at)}
    return _("Notizia pubblicata.") if action == "publish" else _("Modifiche salvate: la pagina pubblica le mostra già.")


def _show_article_conflict(article: Article, form, *, current_version: str) -> None:
    """Someone saved the article after this form was drawn. Their changes stay; this form comes back
    with what was typed, now carrying the current version: saving it again is a deliberate choice."""
    actor, moment = audit.last_saved(article, actions=["article.created", "article.updated", "article.published",
                                                       "article.unpublished"])
    form.add_error(None, _(
        "Nel frattempo %(who)s ha salvato questa notizia (%(when)s): le tue modifiche non sono state salvate. "
        "Ricarica la pagina per vedere le sue, oppure salva di nuovo per sostituirle con quelle qui sotto."
    ) % {"who": actor, "when": _when(moment) if moment else "—"})
    form.data = form.data.copy()
    form.data["version"] = current_version


@require_http_methods(["GET", "POST"])
@login_required
@territory_view
def article_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Only a draft can be deleted; a published article is taken back instead (people may have its link)."""
    article = _article_for_coordinator(request, pk)
    if article.published_at is not None:
        return _only_drafts_are_deleted(request, article)
    if request.method == "GET":
        return render(request, "network/article_delete.html", {"article": article})
    try:
        services.delete_article(article=article, actor=request.user)
    except Article.DoesNotExist:  # deleted by someone else a moment ago
        raise Http404 from None
    except services.ArticleIsPublished:  # published by someone else a moment ago
        return _only_drafts_are_deleted(request, article)
    messages.success(request, _("Bozza «%(title)s» eliminata.") % {"title": article.title})
    return redirect("network:manage_articles", territory=request.territory.slug)


def _only_drafts_are_deleted(request: HttpRequest, article: Article) -> HttpResponse:
    messages.error(request, _("Si possono eliminare solo le bozze: ritira prima la notizia dalla pubblicazione."))
    return redirect("network:article_edit", territory=request.territory.slug, pk=article.pk)
