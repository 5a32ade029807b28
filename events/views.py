from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from accounts.permissions import Perm, can, can_facilitate, require
from core import audit
from core.forms import posted_id, typed_code, typed_text
from core.pdf import render_pdf
from core.ratelimit import retry_after, retry_after_for, too_many_requests
from core.territories import territory_view
from core.text import render_markdown

from . import exports, services, tickets
from .forms import EventForm, IdeaForm, RegistrationForm, TableSummaryForm, event_formsets
from .models import Event, Idea, IdeaVote, Registration, TablePreference, WorkingTable

PAGE_SIZE = 20
# Public registration: generous (a whole office may register from one address), stops floods.
REGISTRATION_LIMIT_PER_MINUTE = 30


def _published_event(request: HttpRequest, slug: str) -> Event:
    return get_object_or_404(
        Event.objects.in_territory(request.territory).published().select_related("territory"), slug=slug
    )


@require_safe
@territory_view
def event_list(request: HttpRequest) -> HttpResponse:
    events = Event.objects.in_territory(request.territory).published()
    show_past = request.GET.get("quando") == "passati"
    events = events.past() if show_past else events.upcoming()
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = "quando=passati" if show_past else ""
    can_manage = can(request.user, Perm.MANAGE_EVENTS, territory=request.territory)
    # Unpublished events appear nowhere else: the coordinators find their drafts here.
    drafts = Event.objects.in_territory(request.territory).filter(is_published=False).upcoming() if can_manage else []
    return render(request, "events/event_list.html", {
        "page": page, "show_past": show_past, "query": query, "can_manage": can_manage, "drafts": drafts,
    })


def _event_context(request: HttpRequest, event: Event) -> dict:
    tables = list(event.tables.all())
    has_started = event.starts_at <= timezone.now()
    if has_started:
        _attach_outcomes(tables)
    for table in tables:
        table.can_summarise = can_facilitate(request.user, table)
    return {
        "event": event,
        "has_started": has_started,
        "description": render_markdown(event.description),
        "sessions": event.sessions.all(),
        "tables": tables,
        "organisers": event.organisers.all(),
        "is_open": event.is_registration_open(),
        "can_manage": can(request.user, Perm.MANAGE_EVENTS, territory=event.territory),
        "can_check_in": can(request.user, Perm.CHECK_IN_ATTENDEES, event=event),
    }


@require_safe
@territory_view
def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event = _published_event(request, slug)
    return render(request, "events/event_detail.html", _event_context(request, event))


@require_safe
@territory_view
def event_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    event = _published_event(request, slug)
    return render_pdf(request, "events/event_pdf.html", _event_context(request, event), filename=event.title,
                      page_url=event.get_absolute_url())


@require_safe
@territory_view
def event_ics(request: HttpRequest, slug: str) -> HttpResponse:
    event = _published_event(request, slug)
    response = HttpResponse(tickets.ics_for_events([event], name=event.title), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}.ics"'
    return response


@require_safe
@territory_view
def territory_ics(request: HttpRequest) -> HttpResponse:
    """The territory's calendar feed, for subscribing in any calendar app."""
    events = Event.objects.in_territory(request.territory).published().select_related("territory").order_by("starts_at")
    body = tickets.ics_for_events(events, name=request.territory.network_name)
    return HttpResponse(body, content_type="text/calendar; charset=utf-8")


@require_http_methods(["GET", "POST"])
@territory_view
def register(request: HttpRequest, slug: str) -> HttpResponse:
    event = _published_event(request, slug)
    if not event.is_registration_open():
        return render(request, "events/registration_closed.html", {"event": event}, status=409 if request.method == "POST" else 200)
    form = RegistrationForm(request.POST or None, event=event)
    status = 200
    if request.method == "POST":
        wait = retry_after(request, scope="event-registration", limit=REGISTRATION_LIMIT_PER_MINUTE, period=60)
        if wait is not None:
            return too_many_requests(request, wait=wait)
        if form.is_valid():
            try:
                registration = services.register_attendee(
                    event=event, data=form.registration_data(), answers=form.answers(),
                    preferences=form.preferences(), table_id=form.table_id(),
                    language=translation.get_language() or "it",
                    actor=request.user if request.user.is_authenticated else None,
                )
            except services.AlreadyRegistered:
                form.add_error("email", _("Questa email è già iscritta all'evento: controlla la tua casella di posta."))
                # With the offer to mail the registration's link again (resend_link).
                return render(request, "events/register.html", {"event": event, "form": form, "already": True},
                              status=409)
            except services.RegistrationClosed:
                return render(request, "events/registration_closed.html", {"event": event}, status=409)
            else:
                return redirect("events:registration", token=registration.token)
        else:
            status = 422
    return render(request, "events/register.html", {"event": event, "form": form}, status=status)


# A lost confirmation mail asked again: a few a day per person, so the form cannot flood a mailbox.
RESEND_PER_EMAIL_PER_DAY = 3
RESEND_PER_ADDRESS_PER_HOUR = 20


@require_POST
@territory_view
def resend_link(request: HttpRequest, slug: str) -> HttpResponse:
    """Mail the link to their registration page again to an address registered for the event.

    The answer is the same whether or not the address is registered: the form may be sent by anyone.
    """
    event = _published_event(request, slug)
    wait = retry_after(request, scope="event-resend", limit=RESEND_PER_ADDRESS_PER_HOUR, period=3600)
    if wait is not None:
        return too_many_requests(request, wait=wait)
    email = typed_text(request.POST.get("email"), max_length=254).lower()
    registration = (event.registrations.live().filter(email=email, is_anonymised=False).first()
                    if email else None)
    if registration is not None and retry_after_for(f"event-resend:{registration.pk}",
                                                     limit=RESEND_PER_EMAIL_PER_DAY, period=86400) is None:
        services.send_registration_link(registration=registration)
    messages.success(request, _("Se questo indirizzo è iscritto all'evento, gli abbiamo rimandato il link alla "
                                "sua iscrizione: controlla anche la posta indesiderata."))
    return redirect(event)


def _registration(token) -> Registration:
    return get_object_or_404(
        Registration.objects.select_related("event", "event__territory", "table", "waiting_table"),
        token=token, is_anonymised=False,
    )


@require_safe
def registration(request: HttpRequest, token) -> HttpResponse:
    """The person's own page, reached from every email: status, ticket, table, cancel."""
    reg = _registration(token)
    request.territory = reg.event.territory
    context = {"registration": reg, "event": reg.event}
    if reg.status == Registration.Status.CONFIRMED:
        context["qr_svg"] = tickets.ticket_qr_svg(reg)
        context["boards"] = reg.event.tables.all()
        if reg.event.table_mode == Event.TableMode.FIRST_COME:
            context["tables"] = reg.event.tables.all()
        elif reg.event.table_mode == Event.TableMode.RANKED:
            context["preferences"] = reg.preferences.select_related("table").order_by("rank")
    if reg.status == Registration.Status.WAITLISTED:
        context["position"] = Registration.objects.waiting().filter(
            event=reg.event
        ).filter(Q(created_at__lt=reg.created_at) | Q(created_at=reg.created_at, pk__lt=reg.pk)).count() + 1
    return render(request, "events/registration.html", context)


@require_safe
def ticket_pdf(request: HttpRequest, token) -> HttpResponse:
    reg = _registration(token)
    if reg.status != Registration.Status.CONFIRMED:
        return redirect("events:registration", token=token)
    request.territory = reg.event.territory
    context = {"registration": reg, "event": reg.event, "qr_svg": tickets.ticket_qr_svg(reg)}
    return render_pdf(request, "events/ticket_pdf.html", context, filename=f"biglietto-{reg.ticket_code}")


@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, token) -> HttpResponse:
    # GET only asks: mail scanners open links, and opening a link must never cancel a seat.
    reg = _registration(token)
    request.territory = reg.event.territory
    if request.method == "POST" and reg.status != Registration.Status.CANCELLED:
        held_seat = reg.holds_seat
        try:
            services.cancel_registration(registration=reg)
        except services.CancelClosed:
            reg.refresh_from_db()
            return render(request, "events/cancel.html", {"registration": reg, "event": reg.event}, status=409)
        messages.success(request, _("Iscrizione annullata. Grazie per averci avvisato: il posto torna disponibile per altri.")
                         if held_seat else _("Iscrizione annullata: non sei più in lista d'attesa."))
        return redirect("events:registration", token=token)
    return render(request, "events/cancel.html", {"registration": reg, "event": reg.event})


@require_POST
def accept_offer(request: HttpRequest, token) -> HttpResponse:
    reg = _registration(token)
    try:
        services.accept_offer(registration=reg)
        messages.success(request, _("Posto confermato: ti abbiamo inviato il biglietto."))
    except services.OfferExpired:
        messages.error(request, _("L'offerta è scaduta e il posto è passato alla persona successiva."))
    return redirect("events:registration", token=token)


@require_POST
def choose_table(request: HttpRequest, token) -> HttpResponse:
    reg = _registration(token)
    table = get_object_or_404(WorkingTable, pk=posted_id(request.POST.get("table")), event=reg.event)
    if reg.event.table_mode != Event.TableMode.FIRST_COME:
        messages.error(request, _("I tavoli di questo evento li assegna il coordinamento."))
        return redirect("events:registration", token=token)
    try:
        reg = services.choose_table(registration=reg, table=table)
    except services.RegistrationError:
        messages.error(request, _("Solo chi ha un posto confermato può scegliere un tavolo."))
        return redirect("events:registration", token=token)
    if reg.table_id == table.pk:
        messages.success(request, _("Sei al tavolo «%(table)s».") % {"table": table.title})
    else:
        messages.info(request, _("Il tavolo «%(table)s» è pieno: sei in lista d'attesa e ti scriveremo se si libera un posto.") % {"table": table.title})
    return redirect("events:registration", token=token)


@require_http_methods(["GET", "POST"])
def delete_data(request: HttpRequest, token) -> HttpResponse:
    reg = _registration(token)
    request.territory = reg.event.territory
    if request.method == "POST":
        event = reg.event
        services.delete_registration_data(registration=reg)
        messages.success(request, _("Abbiamo cancellato i tuoi dati personali per questo evento."))
        return redirect(event)
    return render(request, "events/delete_data.html", {"registration": reg, "event": reg.event})


# Staff -------------------------------------------------------------------------------------------

def _staff_event(request: HttpRequest, slug: str, perm: Perm) -> Event:
    event = get_object_or_404(Event.objects.in_territory(request.territory).select_related("territory"), slug=slug)
    if perm == Perm.CHECK_IN_ATTENDEES:
        require(request.user, perm, event=event)
    else:
        require(request.user, perm, territory=event.territory)
    return event


def _attendance(event: Event) -> dict:
    return event.registrations.aggregate(
        confirmed=Count("pk", filter=Q(status=Registration.Status.CONFIRMED)),
        present=Count("pk", filter=Q(status=Registration.Status.CONFIRMED, checked_in_at__isnull=False)),
    )


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
@login_required
@territory_view
def check_in(request: HttpRequest, slug: str) -> HttpResponse:
    event = _staff_event(request, slug, Perm.CHECK_IN_ATTENDEES)
    context = {"event": event}
    if request.method == "POST" and "undo" in request.POST:
        # The button under a fresh check-in: the wrong ticket scanned, a colleague's test.
        outcome, reg = services.take_back_check_in(event=event, ticket_code=request.POST["undo"], actor=request.user)
        context.update(outcome=outcome, scanned=reg, code=typed_code(request.POST["undo"]))
    elif request.method == "POST":
        outcome, reg = services.check_in(event=event, ticket_code=request.POST.get("code", ""), actor=request.user)
        context.update(outcome=outcome, scanned=reg, code=typed_code(request.POST.get("code", "")))
    context["attendance"] = _attendance(event)
    if request.htmx:
        return render(request, "events/check_in.html#result", context)
    return render(request, "events/check_in.html", context)


@require_safe
@login_required
@territory_view
def attendance(request: HttpRequest, slug: str) -> HttpResponse:
    """The live attendance count, polled by the check-in page."""
    event = _staff_event(request, slug, Perm.CHECK_IN_ATTENDEES)
    return render(request, "events/check_in.html#count", {"event": event, "attendance": _attendance(event)})


@require_http_methods(["GET", "POST"])
@login_required
@territory_view
def manage(request: HttpRequest, slug: str) -> HttpResponse:
    """The coordinator's view of an event: counts, registrations, tables and their actions."""
    event = _staff_event(request, slug, Perm.MANAGE_EVENTS)
    if request.method == "POST":
        return _manage_action(request, event)
    registrations = event.registrations.select_related("table", "waiting_table").order_by("created_at", "pk")
    status = request.GET.get("stato", "")
    unseated = Q(status=Registration.Status.CONFIRMED, table__isnull=True, waiting_table__isnull=True)
    if status == NO_TABLE:
        registrations = registrations.filter(unseated)
    elif status == Registration.Status.WAITLISTED:
        registrations = registrations.waiting()  # in the order seats are handed out
    elif status in Registration.Status.values:
        registrations = registrations.filter(status=status)
    q = typed_text(request.GET.get("q"), max_length=200)
    if q:
        registrations = registrations.filter(
            Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(email__icontains=q)
            | Q(organisation_name__icontains=q) | Q(ticket_code__iexact=q)
        )
    is_ranked = event.table_mode == Event.TableMode.RANKED
    if is_ranked:
        registrations = registrations.prefetch_related(
            Prefetch("preferences", queryset=TablePreference.objects.select_related("table").order_by("rank")))
    page = Paginator(registrations, 50).get_page(request.GET.get("page"))
    _add_waiting_positions(event, page.object_list)
    counts = event.registrations.aggregate(
        **{s: Count("pk", filter=Q(status=s)) for s in Registration.Status.values},
        present=Count("pk", filter=Q(checked_in_at__isnull=False)),
        certifiable=Count("pk", filter=Q(checked_in_at__isnull=False, is_anonymised=False)),
        # Confirmed with neither a table nor a place in a table's queue: promoted or confirmed out of
        # turn after the assignment ran, say. Nothing else on the page would show them.
        unseated=Count("pk", filter=unseated),
    )
    tables = list(event.tables.all())
    if is_ranked:
        _add_demand(event, tables)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "events/manage.html", {
        "event": event, "page": page, "counts": counts, "status": status, "q": q, "query": query.urlencode(),
        "statuses": Registration.Status.choices, "tables": tables, "is_ranked": is_ranked, "no_table": NO_TABLE,
    })


# The manage page's filter for confirmed people without a table (beside the statuses).
NO_TABLE = "senza_tavolo"


def _add_waiting_positions(event: Event, registrations) -> None:
    """Each waiting person's place in the queue that freed seats are handed out from (waiting()):
    counted over the event's whole waiting list, whatever filter or page the coordinator is on."""
    if any(r.status == Registration.Status.WAITLISTED for r in registrations):
        queue = event.registrations.waiting().values_list("pk", flat=True)
        positions = {pk: n for n, pk in enumerate(queue, start=1)}
        for r in registrations:
            r.waiting_position = positions.get(r.pk)


def _without_table(event: Event):
    return event.registrations.filter(status=Registration.Status.CONFIRMED, table__isnull=True)


def _add_demand(event: Event, tables: list[WorkingTable]) -> None:
    """How often each table is the first, or a later, choice of the confirmed people: what the
    coordinator weighs before running the assignment (a table nobody picks first, one over-asked)."""
    ranks = (TablePreference.objects.filter(registration__event=event, registration__status=Registration.Status.CONFIRMED)
             .values("table_id").annotate(first=Count("pk", filter=Q(rank=1)), later=Count("pk", filter=Q(rank__gt=1))))
    by_table = {row["table_id"]: row for row in ranks}
    for table in tables:
        row = by_table.get(table.pk, {})
        table.first_choices, table.later_choices = row.get("first", 0), row.get("later", 0)


def _manage_action(request: HttpRequest, event: Event) -> HttpResponse:
    action = request.POST.get("action")
    if action in ("assign_tables", "notify_tables") and event.is_past:
        messages.error(request, _("L'evento si è concluso: i tavoli non si assegnano più e non si scrive più a nessuno."))
    elif action == "assign_tables" and event.table_mode == Event.TableMode.RANKED:
        result = services.assign_tables(event=event, actor=request.user)
        # Whoever gets no seat waits for their first choice; without preferences there is nothing to wait for.
        waiting = _without_table(event).filter(waiting_table__isnull=False).count()
        # Labels and figures, not a sentence: several counts in one sentence have no plural that fits all.
        messages.success(request, _(
            "Tavoli assegnati. Persone sedute: %(seated)s (alla prima scelta: %(first)s; a un'altra delle loro "
            "scelte: %(later)s; a un tavolo non scelto: %(unchosen)s). Senza posto: %(unseated)s (in attesa "
            "della prima scelta: %(waiting)s; senza preferenze, da assegnare a mano: %(unranked)s).") % {
            "seated": len(result.seats), "first": result.first_choices,
            "later": result.satisfied - result.first_choices, "unchosen": len(result.seats) - result.satisfied,
            "unseated": len(result.unseated), "waiting": waiting, "unranked": len(result.unseated) - waiting})
    elif action == "notify_tables":
        count = services.notify_tables(event=event, actor=request.user)
        messages.success(request, ngettext("Abbiamo scritto a %(count)s persona il suo tavolo.",
                                           "Abbiamo scritto a %(count)s persone il loro tavolo.", count) % {"count": count})
        left = _without_table(event).count()
        if left:
            messages.warning(request, ngettext(
                "%(count)s persona confermata non ha ancora un tavolo e non ha ricevuto nulla: se attende un tavolo, "
                "riceverà l'email quando si libera un posto; altrimenti assegnala a mano con «Sposta».",
                "%(count)s persone confermate non hanno ancora un tavolo e non hanno ricevuto nulla: chi attende un "
                "tavolo riceverà l'email quando si libera un posto; gli altri assegnali a mano con «Sposta».",
                left) % {"count": left})
    elif action == "move":
        registration = get_object_or_404(Registration, pk=posted_id(request.POST.get("registration")), event=event)
        table_id = request.POST.get("table")
        table = get_object_or_404(WorkingTable, pk=posted_id(table_id), event=event) if table_id else None
        try:
            services.move_to_table(registration=registration, table=table, actor=request.user)
            messages.success(request, _("Tavolo cambiato per %(name)s.") % {"name": registration.full_name})
        except services.TableFull:
            messages.error(request, _("Il tavolo «%(table)s» è pieno.") % {"table": table.title})
        except services.RegistrationError:
            messages.error(request, _("Solo chi ha un posto confermato può avere un tavolo."))
    elif action == "confirm_out_of_turn":
        registration = get_object_or_404(Registration, pk=posted_id(request.POST.get("registration")), event=event)
        try:
            confirmed = services.confirm_out_of_turn(registration=registration, actor=request.user)
        except services.EventOver:
            messages.error(request, _("L'evento si è concluso: nessuno viene più confermato."))
        except services.AlreadySeated:
            messages.info(request, _("%(name)s ha già un posto: nulla è cambiato.") % {"name": registration.full_name})
        except services.NotWaiting:
            messages.error(request, _("%(name)s non è in lista d'attesa: nulla è cambiato.")
                           % {"name": registration.full_name})
        else:
            if confirmed.capacity_raised_to:
                messages.success(request, _("%(name)s ha un posto confermato e riceve l'email; la capienza è salita a "
                                            "%(capacity)s.") % {"name": registration.full_name,
                                                                "capacity": confirmed.capacity_raised_to})
            else:
                messages.success(request, _("%(name)s ha un posto confermato e riceve l'email.")
                                 % {"name": registration.full_name})
    elif action == "undo_check_in":
        # A ticket scanned by mistake (the wrong person's, a colleague's test): the count and the
        # certificate of attendance follow the correction.
        registration = get_object_or_404(Registration, pk=posted_id(request.POST.get("registration")), event=event)
        if registration.is_anonymised:
            messages.error(request, _("I dati di questa persona sono stati cancellati: la sua presenza resta com'è."))
        elif services.undo_check_in(registration=registration, actor=request.user):
            messages.success(request, _("Ingresso annullato per %(name)s.") % {"name": registration.full_name})
        else:
            messages.info(request, _("Per %(name)s non risultava alcun ingresso.") % {"name": registration.full_name})
    else:
        messages.error(request, _("Azione non riconosciuta."))
    return redirect("events:manage", territory=event.territory.slug, slug=event.slug)


@require_safe
@login_required
@territory_view
def export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    event = _staff_event(request, slug, Perm.MANAGE_EVENTS)
    if fmt == "xlsx":
        body, content_type = exports.registrations_xlsx(event), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, content_type = exports.registrations_csv(event), "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="iscrizioni-{event.slug}.{fmt}"'
    return response


@require_safe
@login_required
@territory_view
def badges(request: HttpRequest, slug: str) -> HttpResponse:
    event = _staff_event(request, slug, Perm.MANAGE_EVENTS)
    people = event.registrations.filter(status=Registration.Status.CONFIRMED).select_related("table").order_by("last_name", "first_name")
    return render_pdf(request, "events/badges_pdf.html", {"event": event, "people": people}, filename=f"badge-{event.slug}")


@require_safe
@login_required
@territory_view
def certificates(request: HttpRequest, slug: str) -> HttpResponse:
    event = _staff_event(request, slug, Perm.MANAGE_EVENTS)
    people = (event.registrations.filter(checked_in_at__isnull=False, is_anonymised=False).select_related("table")
              .order_by("last_name", "first_name"))
    if not event.has_started or not people.exists():
        messages.error(request, _("Gli attestati si scaricano dall'inizio dell'evento, per chi risulta presente.")
                       if not event.has_started else _("Nessuna persona risulta presente: non ci sono attestati."))
        return redirect("events:manage", territory=event.territory.slug, slug=event.slug)
    return render_pdf(request, "events/certificate_pdf.html", _certificate_context(event, people),
                      filename=f"attestati-{event.slug}")


def _certificate_context(event: Event, people) -> dict:
    return {"event": event, "people": people, "issued_on": timezone.localdate(),
            "organisers": list(event.organisers.order_by("name").values_list("name", flat=True))}


@require_safe
def certificate(request: HttpRequest, token) -> HttpResponse:
    """A person's own certificate of attendance, once checked in."""
    reg = _registration(token)
    if reg.checked_in_at is None or not reg.event.has_started:  # never a certificate for an event to come
        raise Http404
    request.territory = reg.event.territory
    return render_pdf(request, "events/certificate_pdf.html", _certificate_context(reg.event, [reg]),
                      filename=f"attestato-{reg.event.slug}")


# The event editor --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@territory_view
def event_new(request: HttpRequest) -> HttpResponse:
    require(request.user, Perm.MANAGE_EVENTS, territory=request.territory)
    return _event_editor(request, Event(territory=request.territory))


@require_http_methods(["GET", "POST"])
@login_required
@territory_view
def event_edit(request: HttpRequest, slug: str) -> HttpResponse:
    return _event_editor(request, _staff_event(request, slug, Perm.MANAGE_EVENTS))


def _sessions_within_event(form, sessions) -> bool:
    """Each session inside the event's own start and end (the programme shows times, not dates)."""
    starts, ends = form.cleaned_data["starts_at"], form.cleaned_data["ends_at"]
    inside = True
    for session in sessions.forms:
        data = getattr(session, "cleaned_data", None) or {}
        if not data or data.get("DELETE") or not data.get("starts_at") or not data.get("ends_at"):
            continue
        if data["starts_at"] < starts or data["ends_at"] > ends:
            session.add_error("starts_at", _("La sessione deve stare dentro l'evento: dalle %(start)s alle %(end)s.") % {
                "start": date_format(timezone.localtime(starts), "SHORT_DATETIME_FORMAT"),
                "end": date_format(timezone.localtime(ends), "SHORT_DATETIME_FORMAT"),
            })
            inside = False
    return inside


def _event_editor(request: HttpRequest, event: Event) -> HttpResponse:
    is_new = event.pk is None
    data = request.POST if request.method == "POST" else None
    form = EventForm(data, instance=event)
    formsets = event_formsets(data, event=event)
    if request.method == "POST" and not is_new and _rows_gone(formsets):
        # Someone saved meanwhile and deleted a session, table or question this form still holds: its
        # rows cannot be saved (nor make sense as errors). Keep what was typed in the event's own
        # fields, show the rows as they are now, and let the coordinator decide again.
        formsets = event_formsets(None, event=event)
        _show_edit_conflict(event, form, current_version=event.edit_version, rows_gone=True)
    elif request.method == "POST":
        valid = [form.is_valid()] + [formset.is_valid() for formset in formsets.values()]
        if all(valid) and _sessions_within_event(form, formsets["sessions"]):
            rows = {name: formset.save(commit=False) for name, formset in formsets.items()}
            try:
                event, promoted, informed = services.save_event(
                    territory=request.territory, event=None if is_new else event,
                    data={field: form.cleaned_data[field] for field in services.EVENT_FIELDS},
                    organisers=list(form.cleaned_data["organisers"]), sessions=rows["sessions"],
                    tables=rows["tables"], questions=rows["questions"],
                    deleted=[row for formset in formsets.values() for row in formset.deleted_objects],
                    actor=request.user, notify_registrants=form.cleaned_data.get("notify_registrants", False),
                    edit_version=form.cleaned_data.get("edit_version"),
                )
            except services.EventNotSaved as refused:
                _show_problems(refused.problems, form, formsets["tables"])
            except IntegrityError:
                # Two coordinators took the same identifier at the same moment; the constraint chose.
                slug = form.cleaned_data["slug"]
                if not Event.objects.in_territory(request.territory).filter(slug=slug).exclude(pk=event.pk).exists():
                    raise
                form.add_error("slug", _("Un altro evento di questo territorio usa già questo identificativo."))
            else:
                messages.success(request, _("Evento salvato."))
                if promoted:
                    messages.info(request, ngettext(
                        "%(count)s persona in lista d'attesa ha ricevuto uno dei nuovi posti.",
                        "%(count)s persone in lista d'attesa hanno ricevuto i nuovi posti.", promoted,
                    ) % {"count": promoted})
                if informed:
                    messages.info(request, ngettext(
                        "%(count)s iscritto riceve per email i nuovi dettagli.",
                        "%(count)s iscritti ricevono per email i nuovi dettagli.", informed,
                    ) % {"count": informed})
                return redirect("events:edit", territory=event.territory.slug, slug=event.slug)
    if not is_new:
        # Validation copied the submitted values onto the instance: show the stored ones around the form.
        event.refresh_from_db()
    return render(request, "events/event_form.html", {
        "event": event, "is_new": is_new, "form": form, **formsets,
    }, status=422 if request.method == "POST" else 200)


def _rows_gone(formsets) -> bool:
    """Does the posted form hold a row (by its id) that no longer exists?"""
    for formset in formsets.values():
        existing = {str(row.pk) for row in formset.get_queryset()}
        for row_form in formset.forms:
            posted = row_form.data.get(row_form.add_prefix(formset.model._meta.pk.name))
            if posted and posted not in existing:
                return True
    return False


def _show_edit_conflict(event: Event, form, *, current_version: int, rows_gone: bool = False) -> None:
    """Someone saved the event after this form was drawn. Their changes stay; this form comes back
    with what was typed, now carrying the current version: saving it again is a deliberate choice."""
    actor, moment = audit.last_saved(event, actions=["event.updated", "event.created"])
    who = {"who": actor, "when": date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT") if moment else "—"}
    if rows_gone:
        form.add_error(None, _(
            "Nel frattempo %(who)s ha salvato questo evento (%(when)s) ed eliminato sessioni, tavoli o domande "
            "che il tuo modulo conteneva: le tue modifiche non sono state salvate. Qui sotto trovi i dati "
            "dell'evento come li avevi scritti e programma, tavoli e domande come sono ora: ricontrolla e salva di nuovo."
        ) % who)
    else:
        form.add_error(None, _(
            "Nel frattempo %(who)s ha salvato questo evento (%(when)s): le tue modifiche non sono state salvate. "
            "Ricarica la pagina per vedere le sue, oppure salva di nuovo per sostituirle con quelle qui sotto."
        ) % who)
    form.data = form.data.copy()
    form.data["edit_version"] = str(current_version)


def _show_problems(problems, form, tables_formset) -> None:
    """Put each seat problem found under the lock next to the field it is about."""
    forms_by_table = {f.instance.pk: f for f in tables_formset.forms if f.instance.pk}
    for obj, code, count in problems:
        if code == "edited_meanwhile":
            _show_edit_conflict(obj, form, current_version=count)
        elif isinstance(obj, Event):
            form.add_error("capacity", ngettext(
                "C'è già %(count)s posto occupato: i posti non possono essere meno di così.",
                "Ci sono già %(count)s posti occupati (confermati e offerte in attesa di risposta): "
                "i posti non possono essere meno di così.", count) % {"count": count})
        elif code == "capacity_below_taken":
            forms_by_table[obj.pk].add_error("capacity", ngettext(
                "Al tavolo è già seduta %(count)s persona: i posti non possono essere meno di così.",
                "Al tavolo sono già sedute %(count)s persone: i posti non possono essere meno di così.",
                count) % {"count": count})
        elif code == "table_in_use":
            forms_by_table[obj.pk].add_error(None, ngettext(
                "Il tavolo non è stato eliminato: %(count)s persona vi è seduta o in attesa. Spostala prima a un altro tavolo.",
                "Il tavolo non è stato eliminato: %(count)s persone vi sono sedute o in attesa. Spostale prima a un altro tavolo.",
                count) % {"count": count})
        else:
            forms_by_table[obj.pk].add_error(None, ngettext(
                "Il tavolo non è stato eliminato: la sua bacheca ha %(count)s idea.",
                "Il tavolo non è stato eliminato: la sua bacheca ha %(count)s idee.", count) % {"count": count})


# Ideas boards ------------------------------------------------------------------------------------

TOP_IDEAS = 3


def _attach_outcomes(tables: list[WorkingTable]) -> None:
    """Each table's most voted visible ideas (with a vote at least), with one query for the whole event."""
    top: dict[int, list[Idea]] = defaultdict(list)
    counts: dict[int, int] = defaultdict(int)
    for idea in Idea.objects.visible().filter(table__in=tables).ranked():
        counts[idea.table_id] += 1
        if len(top[idea.table_id]) < TOP_IDEAS and idea.vote_count:  # "most voted" means voted at all
            top[idea.table_id].append(idea)
    for table in tables:
        table.top_ideas, table.idea_count = top[table.pk], counts[table.pk]


def _board_ideas(table: WorkingTable, registration: Registration | None = None, *, with_hidden: bool = False):
    ideas = table.ideas.all() if with_hidden else table.ideas.visible()
    ideas = ideas.ranked()
    if registration is not None:
        ideas = ideas.annotate(has_my_vote=Exists(IdeaVote.objects.filter(idea=OuterRef("pk"), registration=registration)))
    return ideas


def _participant_board(request: HttpRequest, reg: Registration, table: WorkingTable, form: IdeaForm,
                       status: int = 200) -> HttpResponse:
    is_participant = reg.status == Registration.Status.CONFIRMED
    is_open = services.is_board_open(reg.event)
    return render(request, "events/board.html", {
        "event": reg.event, "table": table, "registration": reg, "form": form, "is_open": is_open,
        "can_post": is_participant and is_open, "can_vote": is_participant and is_open,
        "is_participant": is_participant, "ideas": _board_ideas(table, reg),
    }, status=status)


def _refusal_message(error: services.IdeaRefused) -> tuple[str, int]:
    if isinstance(error, services.BoardClosed):
        return _("La bacheca è chiusa: l'evento si è concluso."), 409
    if isinstance(error, services.OwnIdea):
        return _("Non si vota la propria idea: i voti dicono quali idee convincono gli altri."), 409
    if isinstance(error, services.NotAParticipant):
        return _("Solo chi ha un posto confermato all'evento può proporre idee e votare."), 403
    return _("Questa idea non è più disponibile."), 409


@require_http_methods(["GET", "POST"])
def board(request: HttpRequest, token, table_id: int) -> HttpResponse:
    """A participant's view of a table's ideas board, reached from their registration page."""
    reg = _registration(token)
    request.territory = reg.event.territory
    table = get_object_or_404(WorkingTable, pk=table_id, event=reg.event)
    form = IdeaForm(request.POST or None)
    if request.method == "POST":
        if not form.is_valid():
            return _participant_board(request, reg, table, form, status=422)
        try:
            idea = services.post_idea(table=table, registration=reg, text=form.cleaned_data["text"])
        except services.IdeaRefused as error:
            message, status = _refusal_message(error)
            messages.error(request, message)
            return _participant_board(request, reg, table, IdeaForm(), status=status)
        messages.success(request, _("Idea pubblicata: ora gli altri partecipanti possono votarla."))
        return redirect(reverse("events:board", kwargs={"token": token, "table_id": table.pk}) + f"#idea-{idea.pk}")
    return _participant_board(request, reg, table, form)


@require_POST
@vary_on_headers("HX-Request")
def vote(request: HttpRequest, token, idea_id: int) -> HttpResponse:
    """Vote for an idea (vote=1) or take the vote back (vote=0); htmx gets the idea's new state."""
    reg = _registration(token)
    request.territory = reg.event.territory
    idea = get_object_or_404(Idea.objects.select_related("table__event"), pk=idea_id, table__event=reg.event)
    board_url = reverse("events:board", kwargs={"token": token, "table_id": idea.table_id})
    try:
        services.vote_for_idea(idea=idea, registration=reg, vote=request.POST.get("vote") != "0")
    except services.IdeaRefused as error:
        message, status = _refusal_message(error)
        messages.error(request, message)
        if request.htmx:
            # htmx does not swap an error; send the browser to the board, which shows the message.
            return HttpResponse(status=status, headers={"HX-Redirect": board_url})
        return _participant_board(request, reg, idea.table, IdeaForm(), status=status)
    if request.htmx:
        idea = _board_ideas(idea.table, reg).get(pk=idea.pk)
        return render(request, "events/board.html#idea", {
            "idea": idea, "registration": reg, "can_vote": True, "event": reg.event, "table": idea.table,
        })
    return redirect(f"{board_url}#idea-{idea.pk}")


@require_http_methods(["GET", "POST"])
@territory_view
def table_board(request: HttpRequest, slug: str, table_id: int) -> HttpResponse:
    """The public, read-only board of a table once the event has started; coordinators moderate it here."""
    event = get_object_or_404(Event.objects.in_territory(request.territory).select_related("territory"), slug=slug)
    table = get_object_or_404(WorkingTable, pk=table_id, event=event)
    can_moderate = can(request.user, Perm.MANAGE_EVENTS, territory=event.territory)
    if not can_moderate and (not event.is_published or event.starts_at > timezone.now()):
        raise Http404
    if request.method == "POST":
        if not can_moderate:
            raise PermissionDenied
        idea = get_object_or_404(Idea, pk=posted_id(request.POST.get("idea")), table=table)
        hidden = request.POST.get("hidden") == "1"
        services.set_idea_hidden(idea=idea, hidden=hidden, actor=request.user)
        messages.success(request, _("Idea nascosta.") if hidden else _("Idea di nuovo visibile."))
        return redirect(reverse("events:table_board", kwargs={
            "territory": event.territory.slug, "slug": event.slug, "table_id": table.pk}) + f"#idea-{idea.pk}")
    return render(request, "events/board.html", {
        "event": event, "table": table, "ideas": _board_ideas(table, with_hidden=can_moderate),
        "can_moderate": can_moderate, "can_summarise": can_facilitate(request.user, table),
        "is_open": services.is_board_open(event),
    })


@require_http_methods(["GET", "POST"])
@login_required
@territory_view
def table_summary(request: HttpRequest, slug: str, table_id: int) -> HttpResponse:
    """The facilitator writes what the table concluded; a coordinator may too."""
    event = get_object_or_404(Event.objects.in_territory(request.territory).select_related("territory"), slug=slug)
    table = get_object_or_404(WorkingTable, pk=table_id, event=event)
    if not can_facilitate(request.user, table):
        raise PermissionDenied
    form = TableSummaryForm(request.POST or None, initial={"summary": table.summary})
    if request.method == "POST" and form.is_valid():
        services.write_table_summary(table=table, summary=form.cleaned_data["summary"], actor=request.user)
        messages.success(request, _("Sintesi salvata."))
        return redirect("events:table_summary", territory=event.territory.slug, slug=event.slug, table_id=table.pk)
    return render(request, "events/table_summary.html", {
        "event": event, "table": table, "form": form, "ideas": _board_ideas(table),
    }, status=422 if form.errors else 200)
