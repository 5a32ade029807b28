from django.conf import settings
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from events.models import Event
from network.models import Article, NetworkRole
from welfare.models import Service

from . import ratelimit
from .cache import public_page
from .models import SentMail, SentMailAttachment, Territory
from .pages import get_page
from .pdf import render_pdf
from .territories import territory_view
from .text import render_markdown


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    territories = list(Territory.objects.filter(is_active=True))
    if len(territories) == 1:
        return redirect(territories[0])
    return render(request, "core/home.html", {"territories": territories})


@require_safe
@public_page
@territory_view
def territory_home(request: HttpRequest) -> HttpResponse:
    territory = request.territory
    counts = territory.organisations.filter(is_active=True).aggregate(
        members=Count("id"),
        partners=Count("id", filter=Q(network_role__in=[NetworkRole.LEAD, NetworkRole.PARTNER, NetworkRole.ATI_MEMBER])),
        firms=Count("id", filter=Q(network_role=NetworkRole.MEMBER_FIRM)),
    )
    # Who offers services is who has some in the catalogue (partners of the ATI do, not only "providers").
    counts["providers"] = Service.objects.published().filter(territory=territory).values("provider").distinct().count()
    articles = Article.objects.published().filter(territory=territory)[:3]
    # The page is cached for a minute (core.cache.TIMEOUT) and events do not invalidate it: an event
    # published or taken down shows here within that minute.
    events = Event.objects.in_territory(territory).published().upcoming().only(
        "title", "slug", "summary", "starts_at", "ends_at", "mode", "venue_name")[:3]
    return render(request, "core/territory_home.html", {"counts": counts, "articles": articles, "events": events})


def _page_context(slug: str) -> dict:
    page = get_page(slug)
    if page is None:
        raise Http404
    return {"page": page, "body": render_markdown(page.localized_body)}


@require_safe
@public_page
def page(request: HttpRequest, slug: str) -> HttpResponse:
    return render(request, "core/page.html", _page_context(slug))


@require_safe
def page_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    context = _page_context(slug)
    return render_pdf(request, "core/page_pdf.html", context, filename=context["page"].localized_title,
                      page_url=context["page"].get_absolute_url())


@require_safe
@never_cache
def sent_mail(request: HttpRequest, token) -> HttpResponse:
    mail = SentMail.objects.filter(token=token).first()
    if mail is None:  # never sent, erased with its recipient's data, or past its retention
        return render(request, "core/sent_mail_gone.html", {"days": settings.MAIL_COPY_RETENTION_DAYS}, status=404)
    # The text without its own "read this in the browser" line: that is this page.
    own = mail.get_absolute_url()
    body = "\n".join(line for line in mail.body_text.splitlines() if own not in line).strip()
    attachments = mail.attachments.only("pk", "filename", "mimetype").order_by("pk")
    return render(request, "core/sent_mail.html", {"mail": mail, "body": body, "attachments": attachments})


@require_safe
@never_cache
def sent_mail_attachment(request: HttpRequest, token, attachment_id: int) -> HttpResponse:
    """A file that came with the message (the calendar entry, the ticket's QR), from its copy's page."""
    attachment = SentMailAttachment.objects.filter(sent_mail__token=token, pk=attachment_id).first()
    if attachment is None:
        raise Http404
    response = HttpResponse(bytes(attachment.content), content_type=attachment.mimetype)
    response["Content-Disposition"] = content_disposition_header(True, attachment.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness for load balancers, and the benchmark's `ceiling`: one indexed SELECT."""
    exists = Territory.objects.filter(slug=settings.DEFAULT_TERRITORY).exists()
    return HttpResponse("ok" if exists else "no territory", content_type="text/plain")


@require_safe
def switch_language(request: HttpRequest, code: str) -> HttpResponse:
    """The header's language links. A GET that only sets a preference cookie, so public pages need
    no CSRF token and can be cached (Django's own set_language, a POST, stays at /i18n/setlang/)."""
    if code not in dict(settings.LANGUAGES):
        raise Http404
    next_url = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        next_url = "/"
    # The language mail is written in is remembered only from our own pages: a link on another site
    # (a cross-site GET, which browsers mark in Sec-Fetch-Site) may switch the cookie, not the account.
    from_our_pages = request.headers.get("Sec-Fetch-Site", "same-origin") in ("same-origin", "none")
    if request.user.is_authenticated and from_our_pages:
        request.user.remember_language(code)
    response = redirect(next_url)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME, code, max_age=settings.LANGUAGE_COOKIE_AGE, path=settings.LANGUAGE_COOKIE_PATH,
        secure=settings.LANGUAGE_COOKIE_SECURE, httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


# allauth's sign-in limits: the longest of their windows (settings.ACCOUNT_RATE_LIMITS).
ACCOUNT_LIMIT_MINUTES = 5


def too_many_requests(request: HttpRequest) -> HttpResponse:
    """What allauth answers when a sign-in, password reset or password change is rate limited
    (it looks this view up as the URLconf's handler429)."""
    return ratelimit.too_many_requests(request, wait=ACCOUNT_LIMIT_MINUTES * 60)
