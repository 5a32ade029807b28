"""Pages as PDF with WeasyPrint ("Salva pagina in PDF")."""

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.text import slugify
from weasyprint import HTML, URLFetcher


class LocalStaticFetcher(URLFetcher):
    """Serve our own static files from disk and refuse everything else.

    A PDF must not wait on the network, and an editor's link must not make the server fetch
    arbitrary addresses (server-side request forgery).
    """

    def fetch(self, url: str, headers: Any = None) -> Any:
        if url.startswith("data:"):
            return super().fetch(url, headers)
        path = urlsplit(url).path
        if path.startswith(settings.STATIC_URL):
            found = finders.find(path[len(settings.STATIC_URL):])
            if found:
                return super().fetch(Path(found).resolve().as_uri(), headers)
        raise ValueError(f"Not fetched while rendering a PDF: {url}")


def render_pdf(
    request: HttpRequest, template: str, context: dict[str, Any], *, filename: str, page_url: str | None = None
) -> HttpResponse:
    """`page_url`: the public page this PDF prints, named in its footer. Private documents (tickets,
    vouchers, statements) give none: their own address carries a secret or needs a login."""
    context = {**context, "page_url": request.build_absolute_uri(page_url) if page_url else None}
    html = render_to_string(template, context, request=request)
    document = HTML(string=html, base_url=request.build_absolute_uri("/"), url_fetcher=LocalStaticFetcher())
    # Tagged (headings, paragraphs, lists, tables in reading order): a screen reader can read the PDF
    # as it reads the page it prints, which an untagged PDF does not allow.
    response = HttpResponse(document.write_pdf(pdf_tags=True), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{slugify(filename) or "pagina"}.pdf"'
    return response
