"""Public pages every visitor sees: static pages, footer, language, dates, home, health, mail copies."""

import re
from datetime import datetime
from importlib import import_module
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.urls import reverse

from conftest import make_organisation, make_territory
from core.models import Page, SentMail, Territory
from network.models import Article

pytestmark = pytest.mark.django_db

STATIC_PAGES = {
    "privacy": "Informativa sul trattamento dei dati personali",
    "accessibilita": "Dichiarazione di accessibilità",
    "note-legali": "Note legali",
}
FOOTER_LINKS = [f'href="/pagine/{slug}/"' for slug in STATIC_PAGES]


@pytest.fixture
def article(territory):
    return Article.objects.create(
        territory=territory,
        slug="nasce-la-rete",
        title="Nasce la rete",
        title_en="The network is born",
        summary="Firmato l'accordo.",
        body="Il testo.",
        published_at=datetime(2023, 11, 10, 11, 30, tzinfo=ZoneInfo("Europe/Rome")),
    )


@pytest.mark.parametrize(("slug", "title"), STATIC_PAGES.items())
def test_static_pages_render(client, slug, title):
    response = client.get(reverse("core:page", kwargs={"slug": slug}))
    assert response.status_code == 200
    assert f"<h1>{title}</h1>" in response.content.decode()


def test_the_data_migration_creates_the_pages_and_keeps_edited_ones(db):
    # Run the migration's own function: the rows it made at `migrate` may have been flushed by a
    # transactional test, and the views fall back to the default texts when a row is missing.
    create_pages = import_module("core.migrations.0002_default_pages").create_pages
    Page.objects.all().delete()
    Page.objects.create(slug="privacy", title="Informativa aggiornata dal Comune", body="Testo nuovo.")
    create_pages(django_apps, None)
    assert dict(Page.objects.values_list("slug", "title")) == {
        "privacy": "Informativa aggiornata dal Comune",
        "accessibilita": "Dichiarazione di accessibilità",
        "note-legali": "Note legali",
    }


def test_an_edited_page_is_what_visitors_read(client, db):
    Page.objects.update_or_create(slug="note-legali", defaults={"title": "Note legali 2026", "body": "Nuove note."})
    content = client.get(reverse("core:page", kwargs={"slug": "note-legali"})).content.decode()
    assert "<h1>Note legali 2026</h1>" in content
    assert "Nuove note." in content


def test_unknown_static_page_is_404(client, db):
    assert client.get(reverse("core:page", kwargs={"slug": "non-esiste"})).status_code == 404


def public_urls(firm, article) -> list[str]:
    sent = SentMail.objects.create(to="anna@example.org", subject="Ciao", body_text="Testo")
    return [
        "/",
        reverse("core:territory_home", kwargs={"territory": "milano"}),
        reverse("network:directory", kwargs={"territory": "milano"}),
        reverse("network:organisation", kwargs={"territory": "milano", "slug": firm.slug}),
        reverse("network:articles", kwargs={"territory": "milano"}),
        reverse("network:article", kwargs={"territory": "milano", "slug": article.slug}),
        reverse("network:join", kwargs={"territory": "milano"}),
        reverse("network:join_thanks", kwargs={"territory": "milano"}),
        reverse("core:sent_mail", kwargs={"token": sent.token}),
        reverse("account_login"),
        reverse("account_reset_password"),
        *[reverse("core:page", kwargs={"slug": slug}) for slug in STATIC_PAGES],
    ]


def test_every_public_page_links_the_three_legal_pages_in_its_footer(client, firm, article, other_territory):
    urls = public_urls(firm, article)
    missing = {}
    for url in urls:
        response = client.get(url)
        assert (url, response.status_code) == (url, 200)
        footer = response.content.decode().split('<footer class="it-footer"', 1)[-1]
        missing[url] = [link for link in FOOTER_LINKS if link not in footer]
    assert missing == {url: [] for url in urls}


def test_every_public_page_has_one_main_heading(client, firm, article, other_territory):
    # Screen reader users jump to the h1 to learn where they are; the join form's thank-you page had none.
    urls = public_urls(firm, article)
    headings = {url: len(re.findall(r"<h1[\s>]", client.get(url).content.decode())) for url in urls}
    assert headings == dict.fromkeys(urls, 1)


def test_switching_to_english(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/pagine/privacy/"}, follow=True)
    assert response.redirect_chain == [("/pagine/privacy/", 302)]
    content = response.content.decode()
    assert '<html lang="en">' in content
    assert "<h1>Privacy notice</h1>" in content
    assert ">Legal notes</a>" in content  # the footer too
    # The choice sticks for the next pages.
    assert '<html lang="en">' in client.get(reverse("core:page", kwargs={"slug": "note-legali"})).content.decode()


def test_the_language_links_name_each_language_in_itself(client, db):
    for language in ("it", "en"):
        content = client.get(reverse("core:page", kwargs={"slug": "privacy"}), HTTP_ACCEPT_LANGUAGE=language).content
        links = content.decode().split('id="mire-lang"', 1)[1].split("</ul>", 1)[0]
        assert '<abbr title="Italiano">IT</abbr>' in links and '<abbr title="English">EN</abbr>' in links


def test_italian_is_the_default_language(client, db):
    content = client.get(reverse("core:page", kwargs={"slug": "privacy"})).content.decode()
    assert '<html lang="it">' in content
    assert ">Informativa privacy</a>" in content


def test_article_date_is_written_the_italian_way(client, article):
    response = client.get(reverse("network:article", kwargs={"territory": "milano", "slug": article.slug}))
    content = response.content.decode()
    assert '<time datetime="2023-11-10T11:30:00+01:00">10 novembre 2023</time>' in content


def test_article_date_in_english(client, article):
    client.cookies["django_language"] = "en"
    response = client.get(reverse("network:article", kwargs={"territory": "milano", "slug": article.slug}))
    content = response.content.decode()
    assert "The network is born" in content
    assert "10 November 2023" in content


def test_english_dates_put_the_day_first_and_use_a_24_hour_clock():
    # Django's "en" is American (12/04/2026, 2:30 p.m.); config/formats/en keeps the Italian order.
    from datetime import date, datetime

    from django.utils import translation
    from django.utils.formats import date_format, time_format

    with translation.override("en"):
        assert date_format(date(2026, 12, 4), "SHORT_DATE_FORMAT") == "04/12/2026"
        assert date_format(datetime(2026, 12, 4, 14, 30), "SHORT_DATETIME_FORMAT") == "04/12/2026 14:30"
        assert date_format(date(2026, 12, 4)) == "4 December 2026"
        assert time_format(datetime(2026, 12, 4, 14, 30)) == "14:30"
    with translation.override("it"):
        assert date_format(date(2026, 12, 4), "SHORT_DATE_FORMAT") == "04/12/2026"


def test_home_goes_straight_to_the_only_territory(client, territory):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/milano/"
    assert client.get("/milano/").status_code == 200


def test_home_lists_the_territories_when_there_are_several(client, territory, other_territory):
    make_territory("torino", "Torino")
    Territory.objects.filter(slug="torino").update(is_active=False)
    response = client.get("/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'href="/milano/"' in content and "Rete Milano" in content
    assert 'href="/bergamo/"' in content and "Rete Bergamo" in content
    assert "Rete Torino" not in content
    assert client.get("/torino/").status_code == 404


def test_home_without_territories_says_so(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert "Nessun territorio è ancora attivo" in response.content.decode()


def test_healthz(client, territory):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_every_mail_can_be_read_on_the_web(client, territory, django_capture_on_commit_callbacks):
    data = {
        "name": "Sartoria Porta Romana Srl",
        "kind": "firm",
        "size_class": "micro",
        "requested_role": "member_firm",
        "tax_code": "01234560157",
        "vat_number": "01234560157",
        "contact_name": "Anna Rossi",
        "email": "anna@sartoria.example.org",
        "privacy_acknowledged": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("network:join", kwargs={"territory": "milano"}), data)
    [message] = mail.outbox
    web_path = re.search(r"https?://[^/\s]+(/posta/[0-9a-f-]+/)", message.body).group(1)

    response = client.get(web_path)
    assert response.status_code == 200
    content = response.content.decode()
    assert message.subject in content
    assert "abbiamo ricevuto la richiesta di Sartoria Porta Romana Srl" in content
    # The copy can hold personal data: no shared cache may keep it.
    assert "private" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    assert "Leggi questo messaggio nel browser" not in content  # it does not offer itself


def test_a_mail_copy_offers_its_attachments(client, territory, django_capture_on_commit_callbacks):
    from events import services
    from events.tests.factories import make_event, person

    with django_capture_on_commit_callbacks(execute=True):
        registration = services.register_attendee(event=make_event(territory), data=person(1))
    [message] = mail.outbox
    web_path = re.search(r"https?://[^/\s]+(/posta/[0-9a-f-]+/)", message.body).group(1)
    content = client.get(web_path).content.decode()
    from django.conf import settings

    assert f'<a href="{settings.SITE_URL}{registration.get_absolute_url()}"' in content  # a link, not text
    links = re.findall(r'href="(/posta/[0-9a-f-]+/allegati/\d+/)" download>([^<]+)</a>', content)
    assert {name for _link, name in links} == {"evento.ics", f"biglietto-{registration.ticket_code}.png"}
    for link, name in links:
        response = client.get(link)
        assert response.status_code == 200 and name in response["Content-Disposition"]
        assert response.content.startswith(b"BEGIN:VCALENDAR" if name.endswith(".ics") else b"\x89PNG")
    other = web_path.replace(web_path.split("/")[2], "00000000-0000-4000-8000-000000000000")
    assert client.get(other + links[0][0].rsplit("/allegati/", 1)[1].join(["allegati/", ""])).status_code == 404


def test_unknown_mail_copy_is_404(client, db):
    assert client.get("/posta/00000000-0000-4000-8000-000000000000/").status_code == 404


def test_mail_copies_are_deleted_after_their_retention_and_their_page_says_why(client, db, settings):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    from core.models import SentMailAttachment

    settings.MAIL_COPY_RETENTION_DAYS = 90
    old = SentMail.objects.create(to="a@example.org", subject="Vecchio", body_text="Imposta la password: …")
    SentMailAttachment.objects.create(sent_mail=old, filename="evento.ics", mimetype="text/calendar", content=b"x")
    SentMail.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=91))
    recent = SentMail.objects.create(to="b@example.org", subject="Recente", body_text="Ciao")
    SentMail.objects.filter(pk=recent.pk).update(created_at=timezone.now() - timedelta(days=89))
    out = StringIO()
    call_command("prune_sent_mail", stdout=out)
    assert "più vecchie di 90 giorni eliminate: 1." in out.getvalue()
    assert list(SentMail.objects.values_list("subject", flat=True)) == ["Recente"]
    assert not SentMailAttachment.objects.exists()
    gone = client.get(old.get_absolute_url())
    assert gone.status_code == 404 and "per 90 giorni" in gone.content.decode()
    assert client.get(recent.get_absolute_url()).status_code == 200


def test_italian_content_on_an_english_page_says_it_is_italian(client, article):
    """WCAG 3.1.2: the English title is read as English, the untranslated summary and body as Italian."""
    url = reverse("network:article", kwargs={"territory": "milano", "slug": article.slug})
    client.cookies["django_language"] = "en"
    english = client.get(url).content.decode()
    assert "<h1>The network is born</h1>" in english
    assert '<p class="lead" lang="it">Firmato l&#x27;accordo.</p>' in english
    assert '<div class="mire-prose" lang="it">' in english
    client.cookies["django_language"] = "it"
    italian = client.get(url).content.decode()
    main = italian[italian.index("<main"):italian.index("</main>")]
    assert 'lang="it"' not in main  # the page itself is Italian


def test_the_privacy_notice_migration_replaces_only_an_unedited_default(db, monkeypatch):
    import hashlib

    from core.pages import PAGES

    migration = import_module("core.migrations.0005_privacy_notice_events_welfare_mail")
    page, _created = Page.objects.update_or_create(slug="privacy", defaults={
        "title": "Informativa", "body": "Testo predefinito di allora.", "body_en": "Testo del Comune."})
    monkeypatch.setattr(migration, "OLD_DEFAULT_SHA256", {
        "body": hashlib.sha256(b"Testo predefinito di allora.").hexdigest(),
        "body_en": hashlib.sha256(b"Another old default.").hexdigest(),
    })
    migration.update_unedited_notice(django_apps, None)
    page.refresh_from_db()
    new = next(p for p in PAGES if p["slug"] == "privacy")
    assert page.body == new["body"] and "Iscrizioni agli eventi" in page.body
    assert page.body_en == "Testo del Comune."  # edited by the lead body: kept


def test_the_privacy_notice_finds_the_controller_and_the_dpo_in_the_footer(client, territory):
    # The notice says their contacts are in the footer; the privacy page itself belongs to no territory
    # and shows the default one's.
    territory.data_controller = "Comune di Milano"
    territory.dpo_email = "rpd@comune.milano.example.org"
    territory.save()
    page = client.get(reverse("core:page", kwargs={"slug": "privacy"})).content.decode()
    assert "Titolare del trattamento dei dati: Comune di Milano" in page
    assert 'href="mailto:rpd@comune.milano.example.org"' in page


def test_the_territory_home_shows_its_english_description_to_english_readers(client, territory):
    territory.description = "Una rete di conciliazione."
    territory.description_en = "A work-life balance network."
    territory.save()
    home = reverse("core:territory_home", kwargs={"territory": territory.slug})
    assert "Una rete di conciliazione." in client.get(home).content.decode()
    english = client.get(home, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "A work-life balance network." in english and 'lang="it">A work' not in english


def test_the_territory_home_shows_the_next_events_and_counts_who_offers_services(client, territory, coop, firm):
    from datetime import timedelta

    from django.utils import timezone

    from events.tests.factories import make_event
    from welfare.tests.factories import make_service

    soon = make_event(territory, starts_at=timezone.now() + timedelta(days=5))
    draft = make_event(territory, starts_at=timezone.now() + timedelta(days=6), is_published=False)
    over = make_event(territory, starts_at=timezone.now() - timedelta(days=30))
    make_service(coop)
    make_service(coop)  # one provider, two services
    make_service(make_organisation(territory, "Equa", kind="social_coop", network_role="ati_member"))
    make_organisation(territory, "Fornitore senza servizi", kind="social_coop", network_role="provider")
    page = client.get(reverse("core:territory_home", kwargs={"territory": territory.slug})).content.decode()
    assert "Prossimi eventi" in page and f'href="/milano/eventi/{soon.slug}/"' in page
    assert f"/eventi/{draft.slug}/" not in page and f"/eventi/{over.slug}/" not in page
    providers = re.search(r"Fornitori di servizi</dt><dd[^>]*>(\d+)<", page).group(1)
    # Counted by what they offer, whatever their role: the cooperative and the ATI member, not the one
    # with nothing in the catalogue (counting the "provider" role gave 2 the other way round).
    assert providers == "2"
    assert "I servizi welfare della rete" in page
