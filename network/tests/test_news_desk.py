"""The coordinators write the network's news: drafts stay private, publishing (now or later) shows them,
taking one back hides it again, and every step leaves an audit row."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditLog
from network import services
from network.models import Article

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def coordinator(client_as, personas):
    return client_as(personas["coordinator"])


def desk(name: str = "network:manage_articles", **kwargs) -> str:
    return reverse(name, kwargs={"territory": "milano", **kwargs})


TEXT = {
    "title": "Nuovo sportello welfare in Municipio 8",
    "summary": "Da lunedì la Cittadella del welfare apre uno sportello per le piccole imprese.",
    "body": "Lo sportello è aperto **il martedì e il giovedì**.\n\n- su appuntamento\n- gratuito",
    "title_en": "", "summary_en": "", "body_en": "",
}


def public_page(article: Article) -> int:
    from django.test import Client

    return Client().get(article.get_absolute_url()).status_code


def test_a_saved_draft_is_not_public_and_publishing_it_shows_it(coordinator, territory):
    response = coordinator.post(desk("network:article_new"), {**TEXT, "action": "save"})
    article = Article.objects.get(territory=territory)
    assert response.status_code == 302 and response["Location"] == desk("network:article_edit", pk=article.pk)
    assert article.slug == "nuovo-sportello-welfare-in-municipio-8" and article.published_at is None
    assert public_page(article) == 404
    assert TEXT["title"] not in coordinator.get(reverse("network:articles", kwargs={"territory": "milano"})).content.decode()

    page = coordinator.get(desk("network:article_edit", pk=article.pk)).content.decode()
    # Enter in a text field presses the form's first button: it must save, never publish.
    buttons = re.findall(r'<button[^>]*name="action" value="(\w+)"', page)
    assert buttons == ["save", "preview", "publish"]

    response = coordinator.post(desk("network:article_edit", pk=article.pk),
                                {**TEXT, "action": "publish", "version": services.article_version(article)})
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.is_published and public_page(article) == 200
    news = coordinator.get(reverse("network:articles", kwargs={"territory": "milano"})).content.decode()
    assert TEXT["title"] in news  # the public page's cache let go of the old list
    actions = list(AuditLog.objects.filter(object_type="network.article").order_by("pk").values_list("action", flat=True))
    assert actions == ["article.created", "article.published"]


def test_a_publication_date_in_the_future_schedules_the_article(coordinator, territory):
    when = timezone.localtime() + timedelta(days=2)
    response = coordinator.post(desk("network:article_new"),
                                {**TEXT, "action": "publish", "published_at": when.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    article = Article.objects.get(territory=territory)
    assert article.published_at > timezone.now() and not article.is_published
    assert public_page(article) == 404
    listing = coordinator.get(desk()).content.decode()
    assert "Programmata" in listing
    # Once the moment has come the article is out, with nothing else to do.
    Article.objects.filter(pk=article.pk).update(published_at=timezone.now() - timedelta(minutes=1))
    assert public_page(Article.objects.get(pk=article.pk)) == 200


def test_taking_an_article_back_hides_it_and_keeps_its_text(coordinator, territory, personas):
    article = services.save_article(territory=territory, article=None, data=TEXT, actor=personas["coordinator"],
                                    published_at=timezone.now())
    response = coordinator.post(desk("network:article_edit", pk=article.pk),
                                {**TEXT, "action": "unpublish", "version": services.article_version(article)})
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.published_at is None and article.title == TEXT["title"]
    assert public_page(article) == 404
    assert AuditLog.objects.filter(action="article.unpublished", object_id=str(article.pk)).exists()


def test_editing_keeps_the_link_and_the_audit_row_names_what_changed(coordinator, territory, personas):
    article = services.save_article(territory=territory, article=None, data=TEXT, actor=personas["coordinator"],
                                    published_at=timezone.now())
    changed = {**TEXT, "title": "Sportello welfare: nuovi orari", "body": "Aperto anche il venerdì."}
    coordinator.post(desk("network:article_edit", pk=article.pk),
                     {**changed, "action": "save", "version": services.article_version(article)})
    article.refresh_from_db()
    assert article.title == "Sportello welfare: nuovi orari"
    assert article.slug == "nuovo-sportello-welfare-in-municipio-8"  # a shared link keeps working
    assert article.is_published
    row = AuditLog.objects.get(action="article.updated")
    assert row.changes == {"title": [TEXT["title"], changed["title"]], "body": True}
    log = coordinator.get(reverse("network:audit_log", kwargs={"territory": "milano"})).content.decode()
    assert "Notizia modificata" in log and "modificato" in log


def test_bad_input_is_refused_next_to_its_field_and_changes_nothing(coordinator, territory):
    response = coordinator.post(desk("network:article_new"), {**TEXT, "title": "", "action": "publish",
                                                              "published_at": "0001-01-01T00:00"})
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="id_title-error"' in page and 'id="id_published_at-error"' in page
    assert "Indica una data tra il 2000 e il 2100." in page
    assert not Article.objects.exists() and not AuditLog.objects.filter(object_type="network.article").exists()


def test_a_save_in_between_is_not_overwritten_unless_the_coordinator_saves_again(coordinator, territory, personas):
    article = services.save_article(territory=territory, article=None, data=TEXT, actor=personas["coordinator"])
    drawn = services.article_version(article)
    services.save_article(territory=territory, article=article, data={**TEXT, "summary": "Scritto da un collega."},
                          actor=personas["coordinator"])
    response = coordinator.post(desk("network:article_edit", pk=article.pk),
                                {**TEXT, "summary": "La mia versione.", "action": "save", "version": drawn})
    assert response.status_code == 422
    assert "Nel frattempo" in response.content.decode()
    assert "correggi i campi segnalati" not in response.content.decode()  # no field is wrong
    assert Article.objects.get(pk=article.pk).summary == "Scritto da un collega."
    # The form came back with the current version: saving it again is a choice, and goes through.
    current = response.context["form"].data["version"]
    response = coordinator.post(desk("network:article_edit", pk=article.pk),
                                {**TEXT, "summary": "La mia versione.", "action": "save", "version": current})
    assert response.status_code == 302
    assert Article.objects.get(pk=article.pk).summary == "La mia versione."


def test_only_a_draft_can_be_deleted(coordinator, territory, personas):
    draft = services.save_article(territory=territory, article=None, data=TEXT, actor=personas["coordinator"])
    published = services.save_article(territory=territory, article=None, data={**TEXT, "title": "Pubblicata"},
                                      actor=personas["coordinator"], published_at=timezone.now())
    response = coordinator.post(desk("network:article_delete", pk=published.pk))
    assert response.status_code == 302 and Article.objects.filter(pk=published.pk).exists()
    assert coordinator.get(desk("network:article_delete", pk=draft.pk)).status_code == 200  # asks first
    response = coordinator.post(desk("network:article_delete", pk=draft.pk))
    assert response.status_code == 302 and response["Location"] == desk()
    assert not Article.objects.filter(pk=draft.pk).exists()
    assert AuditLog.objects.get(action="article.deleted").changes == {"title": TEXT["title"]}


def test_another_territorys_article_is_not_found(client_as, other_coordinator, territory, personas):
    article = services.save_article(territory=territory, article=None, data=TEXT, actor=personas["coordinator"])
    client = client_as(other_coordinator)
    bergamo = {"territory": "bergamo", "pk": article.pk}
    assert client.get(reverse("network:article_edit", kwargs=bergamo)).status_code == 404
    assert client.post(reverse("network:article_delete", kwargs=bergamo)).status_code == 404
    assert Article.objects.filter(pk=article.pk).exists()
    assert client.get(reverse("network:article_edit", kwargs={"territory": "milano", "pk": article.pk})).status_code == 403


def test_the_news_desk_lists_drafts_first_and_has_an_empty_state(coordinator, territory, personas):
    assert "Nessuna notizia ancora" in coordinator.get(desk()).content.decode()
    services.save_article(territory=territory, article=None, data={**TEXT, "title": "Uscita"},
                          actor=personas["coordinator"], published_at=timezone.now() - timedelta(days=1))
    services.save_article(territory=territory, article=None, data={**TEXT, "title": "In lavorazione"},
                          actor=personas["coordinator"])
    page = coordinator.get(desk()).content.decode()
    assert page.index("In lavorazione") < page.index("Uscita")
    assert "Bozza" in page and "Pubblicata" in page


def test_the_preview_shows_the_typed_text_in_each_language_and_saves_nothing(coordinator, territory):
    typed = {**TEXT, "title_en": "New welfare desk", "body_en": "Open **on Tuesdays**.", "action": "preview"}
    response = coordinator.post(desk("network:article_new"), typed)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<strong>il martedì e il giovedì</strong>" in page and "<strong>on Tuesdays</strong>" in page
    assert 'lang="en"' in page
    assert f'value="{TEXT["title"]}"' in page  # the form keeps what was typed
    assert not Article.objects.exists()


def test_a_date_is_a_plan_to_publish_and_is_never_dropped_or_in_the_past(coordinator, territory):
    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = coordinator.post(desk("network:article_new"), {**TEXT, "action": "save", "published_at": tomorrow})
    assert response.status_code == 422 and "Per programmare la notizia usa «Pubblica»" in response.content.decode()
    yesterday = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = coordinator.post(desk("network:article_new"), {**TEXT, "action": "publish", "published_at": yesterday})
    assert response.status_code == 422 and "Questa data è passata" in response.content.decode()
    assert not Article.objects.exists()
    # This very minute, typed by hand, is "now".
    now = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    assert coordinator.post(desk("network:article_new"), {**TEXT, "action": "publish", "published_at": now}).status_code == 302
    assert Article.objects.get().is_published


def test_cancelling_a_schedule_says_so_and_taking_back_asks_first(coordinator, territory, personas):
    article = services.save_article(territory=territory, article=None, data=TEXT, actor=personas["coordinator"],
                                    published_at=timezone.now() + timedelta(days=3))
    page = coordinator.get(desk("network:article_edit", pk=article.pk)).content.decode()
    assert "Annulla la programmazione" in page and "Uscirà il" in page
    response = coordinator.post(desk("network:article_edit", pk=article.pk),
                                {**TEXT, "action": "unpublish", "version": services.article_version(article)}, follow=True)
    assert "Programmazione annullata" in response.content.decode()
    published = services.save_article(territory=territory, article=None, data={**TEXT, "title": "Uscita"},
                                      actor=personas["coordinator"], published_at=timezone.now())
    page = coordinator.get(desk("network:article_edit", pk=published.pk)).content.decode()
    assert re.search(r'value="unpublish" data-confirm="Ritirare la notizia\?', page)
    assert "js/confirm-submit" in page


def test_two_articles_with_one_title_get_two_addresses(territory, personas, monkeypatch):
    first = services.save_article(territory=territory, article=None, data=TEXT, actor=personas["coordinator"])
    # A colleague's article takes the free slug between the check and the insert: the first answer is
    # already taken when the row goes in, and the service asks again instead of failing.
    answers = iter([first.slug, f"{first.slug}-2"])
    monkeypatch.setattr(services, "free_slug", lambda *args, **kwargs: next(answers))
    second = services.save_article(territory=territory, article=None, data=TEXT, actor=personas["coordinator"])
    assert second.slug == f"{first.slug}-2" and Article.objects.count() == 2


def test_a_draft_published_by_a_colleague_while_deleting_it_is_kept(coordinator, territory, personas, monkeypatch):
    draft = services.save_article(territory=territory, article=None, data=TEXT, actor=personas["coordinator"])
    delete = services.delete_article

    def published_meanwhile(*, article, actor):
        Article.objects.filter(pk=article.pk).update(published_at=timezone.now())  # the colleague, first
        return delete(article=article, actor=actor)

    monkeypatch.setattr(services, "delete_article", published_meanwhile)
    response = coordinator.post(desk("network:article_delete", pk=draft.pk), follow=True)
    assert response.redirect_chain[-1][0] == desk("network:article_edit", pk=draft.pk)
    assert "Si possono eliminare solo le bozze" in response.content.decode()
    assert Article.objects.filter(pk=draft.pk).exists()
    assert not AuditLog.objects.filter(action="article.deleted").exists()


def test_the_conflict_names_who_saved_last(coordinator, territory, personas):
    article = services.save_article(territory=territory, article=None, data=TEXT, actor=personas["coordinator"])
    drawn = services.article_version(article)
    services.save_article(territory=territory, article=article, data={**TEXT, "summary": "Altro."}, actor=personas["org_admin"])
    response = coordinator.post(desk("network:article_edit", pk=article.pk), {**TEXT, "action": "save", "version": drawn})
    assert f"Nel frattempo {personas['org_admin'].email} ha salvato questa notizia" in response.content.decode()
