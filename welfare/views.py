import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, Min, Sum, When
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from accounts.permissions import Perm, can, require
from core.cache import public_page
from core.htmx import wants_fragment
from core.links import slug_url_maker
from core.money import euros
from core.pdf import render_pdf
from core.territories import territory_view
from network.models import Organisation

from . import imports, reports, services
from .forms import (
    ALREADY_ENROLLED,
    CatalogueFilterForm,
    ChildrenForm,
    FundForm,
    OrderForm,
    PlanForm,
    ProposalDecisionForm,
    ProviderProposalForm,
    RedeemForm,
    RefundDecisionForm,
    RefundForm,
    ServiceForm,
    VoucherCancelForm,
    WorkerCategoryForm,
    WorkerForm,
    WorkerImportForm,
)
from .managers import distance_km
from .models import (
    Category,
    FringeThreshold,
    Order,
    Plan,
    ProviderProposal,
    RefundRequest,
    Service,
    Wallet,
    Worker,
    WorkerImport,
)

PAGE_SIZE = 20
MAP_POINTS_MAX = 2000
# Years a report or a statement may ask for; anything else is a typing mistake or a probe.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _new_key() -> str:
    # Rendered into each money form: submitting it twice (a double click, a reload) moves money once.
    return secrets.token_urlsafe(16)


# --- the public catalogue ----------------------------------------------------------------------------


def _filtered_catalogue(request: HttpRequest):
    form = CatalogueFilterForm(request.GET or None, territory=request.territory)
    form.is_valid()
    valid = getattr(form, "cleaned_data", {})
    found = Service.objects.filter(territory=request.territory).published().catalogue(
        q=valid.get("q") or "", category=valid.get("categoria") or "", municipio=valid.get("municipio"),
        delivery=valid.get("modalita") or "",
    )
    point = (valid["lat"], valid["lon"]) if valid.get("lat") is not None and valid.get("lon") is not None else None
    return form, found, point


@require_safe
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
@public_page
@territory_view
def catalogue(request: HttpRequest) -> HttpResponse:
    form, found, point = _filtered_catalogue(request)
    found = found.select_related("provider")
    found = found.nearest_to(float(point[0]), float(point[1])) if point else found.order_by("title", "pk")
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    if point:
        for service in page.object_list:
            service.distance = distance_km(float(point[0]), float(point[1]), service.latitude, service.longitude)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode(), "point": point}
    if wants_fragment(request):
        # `fragment`: what goes out of band with it (the count read out, the language links) goes only then.
        return render(request, "welfare/catalogue.html#results", {**context, "fragment": True})
    return render(request, "welfare/catalogue.html", context)


@require_safe
@public_page
@territory_view
def catalogue_map(request: HttpRequest) -> JsonResponse:
    _form, found, _point = _filtered_catalogue(request)
    located = found.filter(latitude__isnull=False, longitude__isnull=False).order_by("title", "pk")
    url_of = slug_url_maker("welfare:service", request.territory.slug)
    points = [
        {"name": title, "lat": float(lat), "lon": float(lon), "url": url_of(slug)}
        for title, slug, lat, lon in located.values_list("title", "slug", "latitude", "longitude")[:MAP_POINTS_MAX]
    ]
    response = JsonResponse({"points": points, "truncated": len(points) == MAP_POINTS_MAX})
    response["Cache-Control"] = "public, max-age=300"
    return response


def _worker_records(user) -> list[Worker]:
    if not user.is_authenticated:
        return []
    return list(Worker.objects.filter(user=user).select_related("organisation__territory"))


@require_safe
@public_page
@territory_view
def service(request: HttpRequest, slug: str) -> HttpResponse:
    item = get_object_or_404(
        Service.objects.filter(territory=request.territory).published().select_related("provider"), slug=slug
    )
    workers = [w for w in _worker_records(request.user) if w.organisation.territory_id == request.territory.pk]
    today = timezone.localdate()
    wallets = [
        wallet for worker in workers for wallet in services.usable_wallets(worker, item.category, today)
    ]
    for wallet in wallets:
        wallet.can_afford = wallet.account.balance_cents >= item.price_cents
    fringe_room = None
    if item.category == Category.FRINGE and wallets:
        # The purchase would be refused past the worker's yearly threshold (art. 51 c. 3): say so before the click.
        # Only for the workers who hold one of the wallets (usually one): a query each.
        rooms = {w.pk: services.fringe_headroom(w, year=today.year) for w in workers
                 if any(wallet.worker_id == w.pk for wallet in wallets)}
        for wallet in wallets:
            room = rooms[wallet.worker_id]
            if room.crossed_by(item.price_cents):
                wallet.can_afford, fringe_room = False, room
    return render(request, "welfare/service.html", {
        "fringe_room": fringe_room,
        "service": item, "wallets": wallets, "is_worker": bool(workers), "order_form": OrderForm(initial={"key": _new_key()}),
        "affordable": [wallet for wallet in wallets if wallet.can_afford],
        "municipi": item.municipi.order_by("number"),
        "map_points": [{"name": item.title, "lat": float(item.latitude), "lon": float(item.longitude), "url": ""}]
        if item.has_location else [],
    })


# --- workers -----------------------------------------------------------------------------------------


def _own_worker(request: HttpRequest, territory) -> Worker:
    worker = next((w for w in _worker_records(request.user) if w.organisation.territory_id == territory.pk), None)
    if worker is None:
        raise PermissionDenied
    return worker


@require_POST
@login_required
@territory_view
def order(request: HttpRequest, slug: str) -> HttpResponse:
    item = get_object_or_404(
        Service.objects.filter(territory=request.territory).published().select_related("provider", "territory"),
        slug=slug,
    )
    worker = _own_worker(request, request.territory)
    form = OrderForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("La richiesta non è valida: riprova dalla pagina del servizio."))
        return redirect(item)
    wallet = None
    if form.cleaned_data.get("wallet"):
        # The wallet says which employer pays, for someone who works for two firms of the network.
        wallet = Wallet.objects.filter(pk=form.cleaned_data["wallet"], worker__user=request.user).select_related(
            "worker__organisation__territory").first()
        if wallet is None:
            raise Http404
        worker = wallet.worker
    try:
        placed = services.place_order(worker=worker, service=item, key=form.cleaned_data["key"], actor=request.user,
                                      wallet=wallet)
    except services.WelfareError as exc:
        messages.error(request, exc.message)
        return redirect(item)
    messages.success(request, _("Acquisto fatto: ecco il tuo voucher."))
    return redirect(placed)


@require_safe
@login_required
def my_welfare(request: HttpRequest) -> HttpResponse:
    workers = _worker_records(request.user)
    today = timezone.localdate()
    year = today.year
    records = []
    for worker in workers:
        # The credit usable today first, the one ending soonest before the others; next year's after.
        wallets = list(worker.wallets.select_related("plan", "account", "tier")
                       .order_by("plan__valid_until", "plan__valid_from", "pk"))
        wallets.sort(key=lambda w: w.plan.valid_from > today)
        # Credit held by refund requests still being examined: out of the balance, not yet spent.
        held = dict(worker.refund_requests.filter(status=RefundRequest.Status.PENDING).values("wallet_id")
                    .annotate(total=Sum("amount_cents")).values_list("wallet_id", "total"))
        for wallet in wallets:
            wallet.starts_later = wallet.plan.valid_from > today
            wallet.held_for_refunds_cents = held.get(wallet.pk, 0)
        records.append({
            "worker": worker,
            "wallets": wallets,
            "headroom": services.fringe_headroom(worker, year=year),
            "minutes_regained": worker.orders.filter(status=Order.Status.REDEEMED, created_at__year=year)
            .aggregate(total=Sum("minutes_saved"))["total"] or 0,
            "orders": worker.orders.select_related("service")[:50],
            "refunds": worker.refund_requests.all()[:50],
            "children_form": ChildrenForm(initial={"has_dependent_children": worker.has_dependent_children},
                                          prefix=f"w{worker.pk}"),
        })
    return render(request, "welfare/my_welfare.html", {
        "records": records, "categories": Category, "refundable": Category.refundable(),
        # Per person, not per employer: whoever proposed a provider follows it from here.
        "proposals": ProviderProposal.objects.filter(proposed_by=request.user)[:50],
    })


@require_POST
@login_required
def declare_children(request: HttpRequest, worker_id: int) -> HttpResponse:
    worker = get_object_or_404(Worker, pk=worker_id, user=request.user)
    form = ChildrenForm(request.POST, prefix=f"w{worker.pk}")
    if form.is_valid():
        worker = services.declare_children(
            worker=worker, has_dependent_children=form.cleaned_data["has_dependent_children"], actor=request.user
        )
        messages.success(request, _("Dichiarazione registrata."))
        room = services.fringe_headroom(worker, year=timezone.localdate().year)
        if room.spent_cents > room.threshold_cents:
            # Art. 51 c. 3: past the threshold the whole year's fringe benefits are taxable.
            messages.warning(request, _(
                "Con questa dichiarazione i fringe benefit già usati quest'anno (%(spent)s) superano la soglia "
                "esente (%(threshold)s): diventano tutti imponibili in busta paga."
            ) % {"spent": euros(room.spent_cents), "threshold": euros(room.threshold_cents)})
    return redirect("welfare:my_welfare")


def _voucher_for(request: HttpRequest, code: str) -> Order:
    """A voucher its buyer, or the staff of its provider, may see; a 404 for anyone else."""
    found = Order.objects.select_related("service", "provider__territory", "worker", "wallet__plan").filter(code=code).first()
    if found is None:
        raise Http404
    is_buyer = found.worker.user_id == request.user.pk
    if not (is_buyer or can(request.user, Perm.REDEEM_VOUCHERS, organisation=found.provider)):
        raise Http404
    found.is_buyer = is_buyer
    return found


@require_safe
@login_required
def voucher(request: HttpRequest, code: str) -> HttpResponse:
    found = _voucher_for(request, code)
    return _voucher_page(request, found, VoucherCancelForm(is_buyer=found.is_buyer))


def _voucher_page(request: HttpRequest, found: Order, cancel_form: VoucherCancelForm, status: int = 200) -> HttpResponse:
    return render(request, "welfare/voucher.html", {
        "order": found, "qr": reports.voucher_qr_svg(found), "cancel_form": cancel_form,
        "cancelled_by_provider": found.cancelled_by_id is not None and found.cancelled_by_id != found.worker.user_id,
    }, status=status)


@require_safe
@login_required
def voucher_pdf(request: HttpRequest, code: str) -> HttpResponse:
    found = _voucher_for(request, code)
    return render_pdf(request, "welfare/voucher_pdf.html", {"order": found, "qr": reports.voucher_qr_svg(found)},
                      filename=f"voucher-{found.code}")


@require_POST
@login_required
def cancel_order(request: HttpRequest, code: str) -> HttpResponse:
    found = _voucher_for(request, code)
    form = VoucherCancelForm(request.POST, is_buyer=found.is_buyer)
    if not form.is_valid():
        return _voucher_page(request, found, form, status=422)
    try:
        services.cancel_order(order=found, actor=request.user, reason=form.cleaned_data["reason"])
    except services.WelfareError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Acquisto annullato: il credito è tornato nel borsellino.") if found.is_buyer else
                         _("Voucher annullato: il credito è tornato nel borsellino di %(name)s, che riceve il motivo per email.")
                         % {"name": found.worker})
    return redirect(found)


@require_http_methods(["GET", "POST"])
@login_required
def refund_new(request: HttpRequest) -> HttpResponse:
    workers = _worker_records(request.user)
    today = timezone.localdate()
    wallets = [w for worker in workers for w in worker.wallets.select_related("plan", "account")
               if w.plan.is_valid_on(today) and set(w.plan.categories) & Category.refundable()]
    if not wallets:
        return render(request, "welfare/refund_new.html", {"form": None})
    form = RefundForm(request.POST or None, request.FILES or None, wallets=wallets,
                      initial={"key": _new_key(), "expense_date": today.isoformat()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        wallet = next(w for w in wallets if w.pk == data["wallet"])
        try:
            services.request_refund(
                worker=wallet.worker, wallet=wallet, category=data["category"], amount_cents=data["amount"],
                description=data["description"], expense_date=data["expense_date"], receipt=data["receipt"],
                key=data["key"], actor=request.user,
            )
        except services.WelfareError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Richiesta inviata: l'importo è riservato finché l'azienda decide."))
            return redirect("welfare:my_welfare")
    return render(request, "welfare/refund_new.html", {"form": form}, status=422 if form.errors else 200)


@require_safe
@login_required
def refund_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    refund = get_object_or_404(RefundRequest.objects.select_related("worker__organisation"), pk=pk)
    if refund.worker.user_id != request.user.pk and not can(
        request.user, Perm.MANAGE_WELFARE, organisation=refund.worker.organisation
    ):
        raise Http404
    content_types = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}
    extension = refund.receipt.name.rsplit(".", 1)[-1]
    try:
        receipt = refund.receipt.open("rb")
    except FileNotFoundError:
        raise Http404 from None  # lost from storage: say so rather than fail
    response = FileResponse(receipt, content_type=content_types.get(extension, "application/octet-stream"),
                            filename=f"ricevuta-{refund.pk}.{extension}")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "POST"])
@login_required
@territory_view
def propose_provider(request: HttpRequest) -> HttpResponse:
    _own_worker(request, request.territory)
    form = ProviderProposalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.propose_provider(territory=request.territory, data=form.cleaned_data, actor=request.user)
        messages.success(request, _("Grazie: il coordinamento della rete valuterà la tua proposta."))
        return redirect("welfare:my_welfare")
    return render(request, "welfare/propose.html", {"form": form}, status=422 if form.errors else 200)


# --- organisations: the firm's welfare ---------------------------------------------------------------


def _organisation(request: HttpRequest, slug: str, perm: Perm) -> Organisation:
    organisation = get_object_or_404(Organisation.objects.in_territory(request.territory).active(), slug=slug)
    require(request.user, perm, organisation=organisation)
    return organisation


def _provider(request: HttpRequest, slug: str, perm: Perm) -> Organisation:
    organisation = _organisation(request, slug, perm)
    if not services.is_provider(organisation):
        raise PermissionDenied  # a firm's staff may redeem only at a provider's till
    return organisation


def _closed_year(value: str | None) -> int:
    """A past year from the query string, or last year when it is missing, absurd or not over yet.

    The firm's report per category covers whole past years only: compared with the payroll export
    from one day to the next, a live report would tell which worker bought what kind of service.
    """
    last_year = timezone.localdate().year - 1
    if value and value.isdigit() and FIRST_YEAR <= int(value) <= last_year:
        return int(value)
    return last_year


@require_safe
@login_required
@territory_view
def organisation_welfare(request: HttpRequest, slug: str) -> HttpResponse:
    return _organisation_page(request, _organisation(request, slug, Perm.MANAGE_WELFARE))


def _organisation_page(request: HttpRequest, organisation, *, refused_decision=None, refund_pk=None) -> HttpResponse:
    """The firm's welfare desk; with `refused_decision`, that refund's form comes back with its errors."""
    refunds = list(RefundRequest.objects.filter(worker__organisation=organisation, status=RefundRequest.Status.PENDING)
                   .select_related("worker", "wallet__plan"))
    for refund in refunds:
        refund.refused_decision = refused_decision if refund.pk == refund_pk else None
    workers = Worker.objects.filter(organisation=organisation)
    page = Paginator(workers, 50).get_page(request.GET.get("page"))
    year = _closed_year(request.GET.get("anno"))
    plans = reports.plans_of(organisation)
    return render(request, "welfare/organisation.html", {
        "organisation": organisation,
        "plans": plans,
        # Offered while typing a worker's category: the ones the plans have amounts for.
        "tier_categories": sorted({t.worker_category for s in plans for t in s.tiers if t.worker_category}, key=str.casefold),
        "pooled_plans": Plan.objects.filter(territory=request.territory, organisation__isnull=True,
                                            status=Plan.Status.ACTIVE).exclude(participants__organisation=organisation)
                                    .prefetch_related("tiers"),
        "page": page,
        "imports": WorkerImport.objects.filter(organisation=organisation).only(
            "pk", "organisation_id", "status", "total", "imported", "created_at")[:5],
        "refunds": refunds,
        "report": reports.spending_by_category(organisation, year=year),
        "year": year,
        "report_years": _plan_years(plans, until=timezone.localdate().year - 1) or [year],
        # Years that are over (see payroll_export), with tax rules: the file has nothing to say about the others.
        "payroll_years": [y for y in _plan_years(plans, until=timezone.localdate().year - 1)
                          if y >= (FringeThreshold.objects.aggregate(first=Min("from_year"))["first"] or LAST_YEAR + 1)],
        "this_year": timezone.localdate().year,
        "worker_form": WorkerForm(organisation=organisation),
        "import_form": WorkerImportForm(organisation=organisation),
        "fund_form": FundForm(initial={"key": _new_key()}),
    }, status=422 if refused_decision else 200)


def _plan_years(plans, *, until: int) -> list[int]:
    """The years, newest first, from the first plan the organisation took part in up to `until`."""
    starts = [summary.plan.valid_from.year for summary in plans]
    return list(range(until, max(min(starts), FIRST_YEAR) - 1, -1)) if starts else []


@require_http_methods(["GET", "POST"])
@login_required
@territory_view
def plan_new(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug, Perm.MANAGE_WELFARE)
    return _plan_form(request, organisation=organisation, back=reverse(
        "welfare:organisation", kwargs={"territory": request.territory.slug, "slug": organisation.slug}))


def _plan_form(request: HttpRequest, *, organisation, back: str) -> HttpResponse:
    today = timezone.localdate()
    # A plan made in December is next year's: the year under way is all but over.
    year = today.year + 1 if today.month == 12 else today.year
    form = PlanForm(request.POST or None, organisation=organisation, initial={
        "valid_from": f"{year}-01-01", "valid_until": f"{year}-12-31",
        "categories": [Category.EDUCATION, Category.CARE, Category.WELLBEING], "tiers": "500",
    })
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.create_plan(
            territory=request.territory, organisation=organisation, name=data["name"],
            year=data["valid_from"].year, valid_from=data["valid_from"], valid_until=data["valid_until"],
            categories=data["categories"], unused_credit=data["unused_credit"], tiers=data["tiers"], actor=request.user,
        )
        if organisation is None:
            messages.success(request, _("Piano di rete creato: le imprese della rete ora possono aderire dalla loro "
                                        "pagina del welfare, ciascuna versando la sua quota."))
        else:
            messages.success(request, _("Piano creato: versa il fondo, poi iscrivi i lavoratori."))
        return redirect(back)
    return render(request, "welfare/plan_form.html", {"form": form, "organisation": organisation, "back": back},
                  status=422 if form.errors else 200)


@require_POST
@login_required
@territory_view
def plan_fund(request: HttpRequest, slug: str, plan_id: int) -> HttpResponse:
    organisation = _organisation(request, slug, Perm.MANAGE_WELFARE)
    plan = get_object_or_404(Plan, pk=plan_id, territory=request.territory, participants__organisation=organisation)
    form = FundForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return redirect("welfare:organisation", territory=request.territory.slug, slug=organisation.slug)
    try:
        services.fund_plan(plan=plan, organisation=organisation, amount_cents=form.cleaned_data["amount"],
                           key=form.cleaned_data["key"], actor=request.user)
    except services.WelfareError as exc:
        messages.error(request, exc.message)
        return redirect("welfare:organisation", territory=request.territory.slug, slug=organisation.slug)
    try:
        # Workers enrolled before the plan existed, before the firm joined it or while its pool was
        # short get their credit now: all of them, or none while the pool still cannot cover them all.
        opened = services.open_wallets(plan=plan, organisation=organisation, actor=request.user)
    except services.WelfareError as exc:
        messages.warning(request, _("Versamento registrato.") + " " + exc.message)
    else:
        messages.success(request, _("Versamento registrato.") + (
            " " + _("Credito assegnato a %(n)s lavoratori.") % {"n": opened} if opened else ""))
    if missing := services.categories_left_out(plan, organisation):
        messages.warning(request, _left_out_message(plan, missing))
    return redirect("welfare:organisation", territory=request.territory.slug, slug=organisation.slug)


@require_http_methods(["GET", "POST"])
@login_required
@territory_view
def plan_delete(request: HttpRequest, slug: str, plan_id: int) -> HttpResponse:
    """Asks first (GET), removes on POST: only a plan of this organisation that never moved money."""
    organisation = _organisation(request, slug, Perm.MANAGE_WELFARE)
    plan = get_object_or_404(Plan, pk=plan_id, territory=request.territory, organisation=organisation)
    if request.method == "POST":
        try:
            services.delete_plan(plan=plan, organisation=organisation, actor=request.user)
        except services.WelfareError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Piano «%(plan)s» eliminato.") % {"plan": plan.name})
        return redirect("welfare:organisation", territory=request.territory.slug, slug=organisation.slug)
    can_delete = plan.can_be_deleted()
    return render(request, "welfare/plan_delete.html", {
        "organisation": organisation, "plan": plan, "can_delete": can_delete,
    }, status=200 if can_delete else 409)


@require_POST
@login_required
@territory_view
def plan_join(request: HttpRequest, slug: str, plan_id: int) -> HttpResponse:
    organisation = _organisation(request, slug, Perm.MANAGE_WELFARE)
    plan = get_object_or_404(Plan, pk=plan_id, territory=request.territory, organisation__isnull=True)
    services.join_pooled_plan(plan=plan, organisation=organisation, actor=request.user)
    messages.success(request, _("La tua organizzazione partecipa ora a «%(plan)s»: versa la tua quota.") % {"plan": plan.name})
    return redirect("welfare:organisation", territory=request.territory.slug, slug=organisation.slug)


@require_POST
@login_required
@territory_view
def worker_new(request: HttpRequest, slug: str) -> HttpResponse:
    organisation = _organisation(request, slug, Perm.MANAGE_WELFARE)
    form = WorkerForm(request.POST, organisation=organisation)
    if form.is_valid():
        try:
            worker = services.enrol_worker(organisation=organisation, data=form.worker_data(), actor=request.user)
        except services.WelfareError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Iscrizione di %(name)s registrata: riceverà l'invito per email.") % {"name": worker})
            for plan in services.plans_awaiting_funding(organisation, [worker]):
                messages.info(request, _awaiting_funding_message(plan))
            for plan, missing in services.plans_leaving_out(organisation, [worker]):
                messages.warning(request, _left_out_message(plan, missing))
            return redirect("welfare:organisation", territory=request.territory.slug, slug=organisation.slug)
    return render(request, "welfare/worker_form.html", {"organisation": organisation, "form": form}, status=422)


@require_POST
@login_required
@territory_view
def worker_import(request: HttpRequest, slug: str) -> HttpResponse:
    """Check the file's rows now; enrol the good ones in the background (welfare.imports) and show its page."""
    organisation = _organisation(request, slug, Perm.MANAGE_WELFARE)
    form = WorkerImportForm(request.POST, request.FILES, organisation=organisation)
    if not form.is_valid():
        return render(request, "welfare/import_result.html", {"organisation": organisation, "form": form}, status=422)
    rows = form.rows()
    good = [(row.line, row.who, row.data) for row in rows if row.data]
    bad = [{"line": row.line, "who": row.who, "errors": imports.in_every_language(row.errors)}
           for row in rows if row.errors]
    if not good:
        # A file sent again after it went in: every row refused as already enrolled, nothing to correct.
        all_enrolled = all(row.errors == [ALREADY_ENROLLED] for row in rows)
        return render(request, "welfare/import_result.html",
                      {"organisation": organisation, "bad": _readable(bad), "all_enrolled": all_enrolled},
                      status=200 if all_enrolled else 422)
    short = services.enrolment_shortfall(organisation, [data for _line, _who, data in good])
    if short is not None:  # said now, for the whole file, rather than after the worker's try
        return render(request, "welfare/import_result.html", {
            "organisation": organisation, "bad": _readable(bad), "short": short.message,
            "plan_id": short.details["plan"],
        }, status=422)
    job = imports.start_worker_import(organisation=organisation, rows=good, bad_rows=bad, actor=request.user,
                                      language=translation.get_language() or settings.LANGUAGE_CODE)
    return redirect(job)


def _readable(bad: list[dict]) -> list[dict]:
    return [{**row, "errors": imports.reasons(row["errors"])} for row in bad]


@require_safe
@login_required
@territory_view
@vary_on_headers("HX-Request")
def worker_import_status(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """An import's progress while the worker enrols its rows, then its report. The page asks again
    every few seconds (htmx) for the progress, and reloads once the import has finished."""
    organisation = _organisation(request, slug, Perm.MANAGE_WELFARE)
    # Not the rows still to enrol (a file of thousands, read again at every poll).
    job = get_object_or_404(WorkerImport.objects.defer("rows"), pk=pk, organisation=organisation)
    if request.htmx and job.is_finished:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    done, stuck = imports.progress(job), job.looks_stuck()
    state = f"{'' if done is None else done}:{stuck}"
    context = {"organisation": organisation, "job": job, "bad": _readable(job.bad_rows), "done": done, "stuck": stuck,
               "state": state}
    if request.htmx:
        if request.GET.get("seen") == state:
            return HttpResponse(status=204)  # nothing new: no swap, nothing read out again
        return render(request, "welfare/import_result.html#progress", context)
    if job.status == WorkerImport.Status.DONE:
        enrolled = list(Worker.objects.filter(organisation=organisation, pk__in=job.enrolled))
        context["awaiting"] = [_awaiting_funding_message(p) for p in services.plans_awaiting_funding(organisation, enrolled)] if enrolled else []
        context["left_out"] = [_left_out_message(p, missing) for p, missing in services.plans_leaving_out(organisation, enrolled)]
    return render(request, "welfare/import_result.html", context)


def _left_out_message(plan: Plan, missing: dict[str, int]) -> str:
    count = sum(missing.values())
    ordered = sorted(missing, key=lambda category: (not category, category.casefold()))  # "no category" last
    names = ", ".join(_("la categoria «%(category)s»") % {"category": category} if category
                      else _("chi non ha una categoria") for category in ordered)
    return ngettext(
        "Il piano «%(plan)s» non prevede un importo per %(categories)s: %(count)s lavoratore non riceve credito da "
        "questo piano. Se è un errore, correggi la categoria nell'elenco dei lavoratori.",
        "Il piano «%(plan)s» non prevede un importo per %(categories)s: %(count)s lavoratori non ricevono credito da "
        "questo piano. Se è un errore, correggi la categoria nell'elenco dei lavoratori.", count,
    ) % {"plan": plan.name, "categories": names, "count": count}


@require_POST
@login_required
@territory_view
def worker_category(request: HttpRequest, slug: str, worker_id: int) -> HttpResponse:
    """Correct a worker's category (a typo at enrolment, a promotion): plans with an amount for it credit them."""
    organisation = _organisation(request, slug, Perm.MANAGE_WELFARE)
    worker = get_object_or_404(Worker, pk=worker_id, organisation=organisation)
    form = WorkerCategoryForm(request.POST)
    back = redirect(reverse("welfare:organisation", kwargs={"territory": request.territory.slug, "slug": organisation.slug})
                    # No #fragment: the page opens at its top, where the result is said.
                    + (f"?page={page}" if (page := request.POST.get("page", "")).isdigit() else ""))
    if not form.is_valid():
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
        return back
    try:
        opened = services.change_worker_category(worker=worker, category=form.cleaned_data["category"], actor=request.user)
    except services.WelfareError as exc:
        messages.error(request, exc.message)
        return back
    worker.refresh_from_db()
    messages.success(request, _("Categoria di %(name)s: %(category)s.") % {
        "name": worker, "category": worker.category or _("nessuna")})
    if opened:
        messages.info(request, ngettext("Credito assegnato da %(n)s piano.", "Credito assegnato da %(n)s piani.",
                                        len(opened)) % {"n": len(opened)})
    for plan in services.plans_awaiting_funding(organisation, [worker]):
        messages.info(request, _awaiting_funding_message(plan))
    for plan, missing in services.plans_leaving_out(organisation, [worker]):
        messages.warning(request, _left_out_message(plan, missing))
    return back


def _awaiting_funding_message(plan: Plan) -> str:
    return _("Il fondo del piano «%(plan)s» non basta ancora: il credito arriverà quando verserai il fondo.") % {
        "plan": plan.name}


@require_POST
@login_required
@territory_view
def refund_decide(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    organisation = _organisation(request, slug, Perm.MANAGE_WELFARE)
    refund = get_object_or_404(RefundRequest, pk=pk, worker__organisation=organisation)
    form = RefundDecisionForm(request.POST)
    if not form.is_valid():  # the page again, the errors beside this refund's form, what was typed kept
        return _organisation_page(request, organisation, refused_decision=form, refund_pk=refund.pk)
    else:
        try:
            services.decide_refund(refund=refund, approve=form.cleaned_data["decision"] == "approve",
                                   reason=form.cleaned_data["reason"], actor=request.user)
        except services.WelfareError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Decisione registrata; il lavoratore riceve un'email."))
    return redirect("welfare:organisation", territory=request.territory.slug, slug=organisation.slug)


@require_safe
@login_required
@territory_view
def payroll_export(request: HttpRequest, slug: str, year: int) -> HttpResponse:
    """A closed year's exempt and taxable amounts per worker, for the year-end adjustment of the payroll
    (the conguaglio, due by 28 February) and the Certificazione Unica.

    Not for the year under way: a per-worker total that moves from one day to the next, or that adds up
    to the public prices of the catalogue, tells the employer what one worker bought.
    """
    organisation = _organisation(request, slug, Perm.MANAGE_WELFARE)
    if not FIRST_YEAR <= year < timezone.localdate().year or not FringeThreshold.objects.filter(from_year__lte=year).exists():
        raise Http404  # not over yet, or no tax rules for that year: the platform had no welfare in it
    return reports.payroll_csv(organisation, year=year)


# --- providers ---------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
@territory_view
def provider(request: HttpRequest, slug: str) -> HttpResponse:
    """The provider's desk: its services, its orders, and the voucher till."""
    organisation = _provider(request, slug, Perm.REDEEM_VOUCHERS)
    form = RedeemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            redeemed = services.redeem_voucher(code=form.cleaned_data["code"], provider=organisation, actor=request.user)
        except services.WelfareError as exc:
            form.add_error("code", exc.message)
        else:
            # Redirected: a reload, or a second press of the button, does not send the code again.
            messages.success(request, _("Voucher valido e ora utilizzato: %(title)s per %(name)s (%(amount)s).") % {
                "title": redeemed.title, "name": redeemed.worker, "amount": euros(redeemed.amount_cents)})
            return redirect("welfare:provider", territory=request.territory.slug, slug=organisation.slug)
    orders = Order.objects.filter(provider=organisation).select_related("worker")
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    context = {
        "organisation": organisation, "form": form, "page": page,
        "services": Service.objects.filter(provider=organisation),
        "can_manage": can(request.user, Perm.MANAGE_SERVICES, organisation=organisation) and services.is_provider(organisation),
        "months": reports.statement_months(organisation),
    }
    return render(request, "welfare/provider.html", context, status=422 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@login_required
@territory_view
def service_edit(request: HttpRequest, slug: str, service_slug: str | None = None) -> HttpResponse:
    organisation = _provider(request, slug, Perm.MANAGE_SERVICES)
    instance = None
    if service_slug is not None:
        instance = get_object_or_404(Service, provider=organisation, slug=service_slug)
    else:
        instance = Service(territory=request.territory, provider=organisation)
    form = ServiceForm(request.POST or None, instance=instance, territory=request.territory)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.save_service(service=form.save(commit=False), municipi=form.cleaned_data["municipi"],
                                          actor=request.user)
        except services.WelfareError as exc:
            form.add_error("slug", exc.message)
        else:
            messages.success(request, _("Servizio salvato."))
            return redirect("welfare:provider", territory=request.territory.slug, slug=organisation.slug) if not saved.is_published else redirect(saved)
    return render(request, "welfare/service_form.html", {"organisation": organisation, "form": form},
                  status=422 if form.errors else 200)


@require_safe
@login_required
@territory_view
def statement(request: HttpRequest, slug: str, year: int, month: int, fmt: str) -> HttpResponse:
    organisation = _provider(request, slug, Perm.MANAGE_SERVICES)
    year, month = int(year), int(month)  # the URL's pattern allows digits only
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        raise Http404
    data = reports.settlement_statement(organisation, year=year, month=month)
    if fmt == "csv":
        return reports.statement_csv(data)
    return render_pdf(request, "welfare/statement_pdf.html", {"statement": data},
                      filename=f"rendiconto-{organisation.slug}-{year}-{month:02d}")


# --- the coordinator: pooled plans and proposed providers --------------------------------------------


@require_safe
@login_required
@territory_view
def coordination(request: HttpRequest) -> HttpResponse:
    require(request.user, Perm.MANAGE_NETWORK_WELFARE, territory=request.territory)
    # Those still to assess first, then the others, newest first.
    proposals = ProviderProposal.objects.filter(territory=request.territory).order_by(
        Case(When(status=ProviderProposal.Status.NEW, then=0), default=1), "-created_at", "-pk")
    page = Paginator(proposals, PAGE_SIZE).get_page(request.GET.get("page"))
    for proposal in page.object_list:
        if proposal.status == ProviderProposal.Status.NEW:
            proposal.decision_form = ProposalDecisionForm(auto_id=f"proposal-{proposal.pk}-%s")
    return render(request, "welfare/coordination.html", {
        "plans": Plan.objects.filter(territory=request.territory, organisation__isnull=True).prefetch_related(
            "participants__organisation", "tiers"),
        "page": page,
        "unpaid": reports.unpaid_months(request.territory),
    })


@require_POST
@login_required
@territory_view
def provider_payout(request: HttpRequest, slug: str, year: int, month: int) -> HttpResponse:
    require(request.user, Perm.MANAGE_NETWORK_WELFARE, territory=request.territory)
    provider = get_object_or_404(Organisation.objects.in_territory(request.territory), slug=slug)
    if not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        raise Http404
    try:
        payout = services.pay_provider(provider=provider, year=year, month=month, actor=request.user)
    except services.WelfareError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Pagamento registrato: %(net)s a %(provider)s.")
                         % {"net": euros(payout.net_cents), "provider": provider.name})
    return redirect("welfare:coordination", territory=request.territory.slug)


@require_http_methods(["GET", "POST"])
@login_required
@territory_view
def pooled_plan_new(request: HttpRequest) -> HttpResponse:
    require(request.user, Perm.MANAGE_NETWORK_WELFARE, territory=request.territory)
    return _plan_form(request, organisation=None, back=reverse("welfare:coordination", kwargs={"territory": request.territory.slug}))


@require_POST
@login_required
@territory_view
def proposal_decide(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, Perm.MANAGE_NETWORK_WELFARE, territory=request.territory)
    proposal = get_object_or_404(ProviderProposal, pk=pk, territory=request.territory)
    form = ProposalDecisionForm(request.POST)
    if not form.is_valid():
        for problems in form.errors.values():
            messages.error(request, " ".join(problems))
        return redirect("welfare:coordination", territory=request.territory.slug)
    invite = form.cleaned_data["decision"] == "invite"
    try:
        proposal = services.decide_provider_proposal(proposal=proposal, invite=invite,
                                                     message=form.cleaned_data["message"], actor=request.user)
    except services.WelfareError as exc:
        messages.error(request, exc.message)
    else:
        told = proposal.proposer_hears_of_it
        if invite:
            messages.success(request, _("Invito inviato; chi ha proposto il fornitore riceverà un'email.") if told
                             else _("Invito inviato."))
        else:
            messages.success(request, _("Fornitore non invitato; chi l'ha proposto riceverà un'email.") if told
                             else _("Fornitore non invitato."))
    return redirect("welfare:coordination", territory=request.territory.slug)
