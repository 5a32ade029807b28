from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from accounts.permissions import Perm, can, require
from core.pdf import render_pdf
from core.ratelimit import retry_after
from core.territories import territory_view
from core.text import render_markdown

from . import exports, services, tickets
from .forms import RegistrationForm
from .models import Event, Registration, WorkingTable

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
    return render(request, "events/event_list.html", {"page": page, "show_past": show_past, "query": query})


def _event_context(request: HttpRequest, event: Event) -> dict:
    tables = list(event.tables.all())
    return {
        "event": event,
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
    return render_pdf(request, "events/event_pdf.html", _event_context(request, event), filename=event.title)


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
            response = render(request, "429.html", {"retry_after_minutes": 1}, status=429)
            response["Retry-After"] = str(wait)
            return response
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
                status = 409
            except services.RegistrationClosed:
                return render(request, "events/registration_closed.html", {"event": event}, status=409)
            else:
                return redirect("events:registration", token=registration.token)
        else:
            status = 422
    return render(request, "events/register.html", {"event": event, "form": form}, status=status)


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
        if reg.event.table_mode == Event.TableMode.FIRST_COME:
            context["tables"] = reg.event.tables.all()
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
        services.cancel_registration(registration=reg)
        messages.success(request, _("Iscrizione annullata. Grazie per averci avvisato: il posto passa a chi è in lista d'attesa."))
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
    table = get_object_or_404(WorkingTable, pk=request.POST.get("table") or 0, event=reg.event)
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
    if request.method == "POST":
        outcome, reg = services.check_in(event=event, ticket_code=request.POST.get("code", ""), actor=request.user)
        context.update(outcome=outcome, scanned=reg, code=request.POST.get("code", "").strip().upper())
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
    if status in Registration.Status.values:
        registrations = registrations.filter(status=status)
    q = request.GET.get("q", "").strip()
    if q:
        registrations = registrations.filter(
            Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(email__icontains=q)
            | Q(organisation_name__icontains=q) | Q(ticket_code__iexact=q)
        )
    page = Paginator(registrations, 50).get_page(request.GET.get("page"))
    counts = event.registrations.aggregate(
        **{s: Count("pk", filter=Q(status=s)) for s in Registration.Status.values},
        present=Count("pk", filter=Q(checked_in_at__isnull=False)),
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "events/manage.html", {
        "event": event, "page": page, "counts": counts, "status": status, "q": q, "query": query.urlencode(),
        "statuses": Registration.Status.choices, "tables": event.tables.all(),
    })


def _manage_action(request: HttpRequest, event: Event) -> HttpResponse:
    action = request.POST.get("action")
    if action == "assign_tables" and event.table_mode == Event.TableMode.RANKED:
        result = services.assign_tables(event=event, actor=request.user)
        messages.success(request, _("Tavoli assegnati: %(seated)s persone sedute, %(satisfied)s a un tavolo scelto, %(unseated)s senza posto.") % {
            "seated": len(result.seats), "satisfied": result.satisfied, "unseated": len(result.unseated)})
    elif action == "notify_tables":
        count = services.notify_tables(event=event, actor=request.user)
        messages.success(request, _("Abbiamo scritto a %(count)s persone il loro tavolo.") % {"count": count})
    elif action == "move":
        registration = get_object_or_404(Registration, pk=request.POST.get("registration") or 0, event=event)
        table_id = request.POST.get("table")
        table = get_object_or_404(WorkingTable, pk=table_id, event=event) if table_id else None
        try:
            services.move_to_table(registration=registration, table=table, actor=request.user)
            messages.success(request, _("%(name)s spostato.") % {"name": registration.full_name})
        except services.TableFull:
            messages.error(request, _("Il tavolo «%(table)s» è pieno.") % {"table": table.title})
        except services.RegistrationError:
            messages.error(request, _("Solo chi ha un posto confermato può avere un tavolo."))
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
    people = event.registrations.filter(checked_in_at__isnull=False, is_anonymised=False).order_by("last_name", "first_name")
    return render_pdf(request, "events/certificate_pdf.html", {"event": event, "people": people},
                      filename=f"attestati-{event.slug}")


@require_safe
def certificate(request: HttpRequest, token) -> HttpResponse:
    """A person's own certificate of attendance, once checked in."""
    reg = _registration(token)
    if reg.checked_in_at is None:
        raise Http404
    request.territory = reg.event.territory
    return render_pdf(request, "events/certificate_pdf.html", {"event": reg.event, "people": [reg]},
                      filename=f"attestato-{reg.event.slug}")
