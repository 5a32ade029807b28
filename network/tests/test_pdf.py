""" "Salva pagina in PDF": organisation, article and static pages as PDF documents."""

import contextlib
import re
import shutil
import subprocess
import zlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import make_organisation
from network.models import Article

pytestmark = pytest.mark.django_db

PDF_LINK_TEXT = "Salva pagina in PDF"


def pdf_titles(pdf: bytes) -> list[str]:
    """The document title and bookmark titles of a WeasyPrint PDF (they sit in compressed object streams)."""
    chunks = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        with contextlib.suppress(zlib.error):  # an image or font stream
            chunks.append(zlib.decompress(match.group(1)))
    titles = []
    for chunk in chunks:
        for raw in re.findall(rb"/Title\s*(\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f]*>)", chunk):
            if raw.startswith(b"<"):
                data = bytes.fromhex(raw[1:-1].decode())
                titles.append(data[2:].decode("utf-16-be") if data.startswith(b"\xfe\xff") else data.decode("latin-1"))
            else:
                titles.append(re.sub(rb"\\(.)", rb"\1", raw[1:-1]).decode("latin-1"))
    return titles


def pdf_objects(pdf: bytes) -> bytes:
    """The PDF with its compressed object streams inflated, for looking up dictionary keys."""
    chunks = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        with contextlib.suppress(zlib.error):
            chunks.append(zlib.decompress(match.group(1)))
    return b"\n".join(chunks)


def assert_pdf_of(response, title: str, filename: str) -> None:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    pdf = response.content
    assert pdf.startswith(b"%PDF")
    assert len(pdf) > 1024
    assert title in pdf_titles(pdf)
    # Tagged, so that a screen reader reads it in order, with its headings: /MarkInfo << /Marked true >>
    # and a structure tree.
    objects = pdf_objects(pdf)
    assert re.search(rb"/Marked\s+true", objects) and b"/StructTreeRoot" in objects, "the PDF is not tagged"
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
        assert title in " ".join(text.split())


@pytest.fixture
def article(territory):
    return Article.objects.create(
        territory=territory,
        slug="festa-della-rete",
        title="Festa della rete di conciliazione",
        title_en="Network celebration",
        summary="Ci vediamo in piazza.",
        body="Tutti **invitati**.",
        published_at=timezone.now() - timedelta(days=1),
    )


def test_organisation_page_as_pdf(client, firm):
    page_url = reverse("network:organisation", kwargs={"territory": "milano", "slug": firm.slug})
    pdf_url = reverse("network:organisation_pdf", kwargs={"territory": "milano", "slug": firm.slug})
    page = client.get(page_url).content.decode()
    assert f'href="{pdf_url}"' in page and PDF_LINK_TEXT in page
    assert_pdf_of(client.get(pdf_url), "Officine Test", "officine-test.pdf")


def test_article_as_pdf(client, article):
    page_url = reverse("network:article", kwargs={"territory": "milano", "slug": article.slug})
    pdf_url = reverse("network:article_pdf", kwargs={"territory": "milano", "slug": article.slug})
    page = client.get(page_url).content.decode()
    assert f'href="{pdf_url}"' in page and PDF_LINK_TEXT in page
    assert_pdf_of(client.get(pdf_url), "Festa della rete di conciliazione", "festa-della-rete-di-conciliazione.pdf")


def test_static_page_as_pdf(client, db):
    pdf_url = reverse("core:page_pdf", kwargs={"slug": "accessibilita"})
    page = client.get(reverse("core:page", kwargs={"slug": "accessibilita"})).content.decode()
    assert f'href="{pdf_url}"' in page and PDF_LINK_TEXT in page
    assert_pdf_of(client.get(pdf_url), "Dichiarazione di accessibilità", "dichiarazione-di-accessibilita.pdf")


def test_pdf_follows_the_chosen_language(client, article):
    client.cookies["django_language"] = "en"
    pdf_url = reverse("network:article_pdf", kwargs={"territory": "milano", "slug": article.slug})
    assert_pdf_of(client.get(pdf_url), "Network celebration", "network-celebration.pdf")


def test_unknown_or_hidden_content_has_no_pdf(client, territory, other_territory, article):
    make_organisation(territory, "Vecchia Associazione", kind="association", network_role="partner", is_active=False)
    make_organisation(other_territory, "Comune di Bergamo", kind="public_body", network_role="lead")
    Article.objects.create(territory=territory, slug="bozza", title="Bozza", summary="…", body="…", published_at=None)
    Article.objects.create(
        territory=territory,
        slug="domani",
        title="Domani",
        summary="…",
        body="…",
        published_at=timezone.now() + timedelta(days=1),
    )
    missing = [
        reverse("network:organisation_pdf", kwargs={"territory": "milano", "slug": "non-esiste"}),
        reverse("network:organisation_pdf", kwargs={"territory": "milano", "slug": "vecchia-associazione"}),
        reverse("network:organisation_pdf", kwargs={"territory": "milano", "slug": "comune-di-bergamo"}),
        reverse("network:organisation_pdf", kwargs={"territory": "roma", "slug": "comune-di-bergamo"}),
        reverse("network:article_pdf", kwargs={"territory": "milano", "slug": "non-esiste"}),
        reverse("network:article_pdf", kwargs={"territory": "milano", "slug": "bozza"}),
        reverse("network:article_pdf", kwargs={"territory": "milano", "slug": "domani"}),
        reverse("network:article_pdf", kwargs={"territory": "bergamo", "slug": article.slug}),
        reverse("core:page_pdf", kwargs={"slug": "non-esiste"}),
    ]
    assert {url: client.get(url).status_code for url in missing} == dict.fromkeys(missing, 404)


class _CapturedHtml:
    """Stands in for WeasyPrint's HTML: keeps the page the PDF would be made of."""

    pages: list[str] = []

    def __init__(self, *, string, **_options):
        self.pages.append(string)

    def write_pdf(self, **options) -> bytes:
        return b"%PDF-1.7 captured"


def test_the_pdf_footer_names_public_pages_but_never_a_private_address(client, territory, monkeypatch):
    from events import services
    from events.tests.factories import make_event, person

    monkeypatch.setattr("core.pdf.HTML", _CapturedHtml)
    _CapturedHtml.pages = []
    organisation = make_organisation(territory, "Cooperativa Stampa")
    client.get(reverse("network:organisation_pdf", kwargs={"territory": "milano", "slug": organisation.slug}))
    assert f"da http://testserver{organisation.get_absolute_url()}</footer>" in _CapturedHtml.pages[-1]

    registration = services.register_attendee(event=make_event(territory), data=person(1))
    client.get(reverse("events:ticket_pdf", kwargs={"token": registration.token}))
    footer = _CapturedHtml.pages[-1].split('<footer class="pdf-footer">')[1]
    assert str(registration.token) not in footer and "Stampato il" in footer  # the token cancels the registration
