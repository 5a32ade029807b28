"""The coordinators' news desk as they use it: Enter saves a draft, taking an article down asks first,
and the editor (with its preview) is accessible."""

from datetime import timedelta

import pytest

pytestmark = pytest.mark.browser

COORDINATOR = "coordinatore@mire.example.org"
DESK = "/milano/coordinamento/notizie/"
PUBLIC_LIST = "/milano/notizie/"


@pytest.fixture
def coordinator(demo):
    from accounts.models import User

    return User.objects.get(email=COORDINATOR)


@pytest.fixture
def coordinator_page(coordinator, new_page, client, live_server):
    """A page signed in as the demo coordinator, the way the test client is: the TOTP step of the
    coordinator's sign-in is not what these tests are about."""
    client.force_login(coordinator, backend="django.contrib.auth.backends.ModelBackend")
    page = new_page()
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    return page


def make_article(demo, coordinator, title, *, published_at=None, body="Primo paragrafo."):
    from network import services

    return services.save_article(
        territory=demo, article=None, actor=coordinator, published_at=published_at,
        data={"title": title, "summary": f"Sommario di «{title}».", "body": body,
              "title_en": "", "summary_en": "", "body_en": ""},
    )


def public_titles(page) -> str:
    response = page.goto(PUBLIC_LIST)
    assert response.ok, f"{PUBLIC_LIST} answered {response.status}"
    return page.locator("main").inner_text()


def test_enter_in_the_title_saves_the_draft_without_publishing_it(demo, coordinator, coordinator_page):
    """Enter in a text field presses the form's first button: it must be "Salva la bozza", not "Pubblica"."""
    from network.models import Article

    page = coordinator_page
    article = make_article(demo, coordinator, "Bozza del bando welfare")
    edit_url = f"{DESK}{article.pk}/"
    response = page.goto(edit_url)
    assert response.ok, f"{edit_url} answered {response.status}"
    assert page.locator("main").get_by_text("Bozza", exact=True).is_visible()

    title = page.locator("#id_title")
    title.fill("Bozza del bando welfare, rivista")
    with page.expect_navigation():
        title.press("Enter")

    assert page.url.endswith(edit_url)
    article = Article.objects.get(pk=article.pk)
    assert article.title == "Bozza del bando welfare, rivista", "Enter saved what was typed"
    assert article.published_at is None, "Enter in the title published the draft"
    assert "Bozza salvata" in page.get_by_role("status").inner_text()
    assert "Bozza del bando welfare" not in public_titles(page), "the draft shows on the public news list"


def test_taking_an_article_down_asks_first(demo, coordinator, coordinator_page):
    """The "Ritira dalla pubblicazione" button makes the public page disappear: the browser asks first.
    Cancelling leaves the article out; confirming takes it back to a draft."""
    from django.utils import timezone

    from network.models import Article

    page = coordinator_page
    article = make_article(demo, coordinator, "Il tavolo welfare cerca volontari",
                           published_at=timezone.now() - timedelta(days=1))
    edit_url = f"{DESK}{article.pk}/"
    assert "Il tavolo welfare cerca volontari" in public_titles(page)
    page.goto(edit_url)
    withdraw = page.get_by_role("button", name="Ritira dalla pubblicazione")

    dialogs = []

    def dismiss(dialog):
        dialogs.append((dialog.type, dialog.message))
        dialog.dismiss()

    page.once("dialog", dismiss)
    withdraw.click()
    confirm = ("confirm", "Ritirare la notizia? La sua pagina pubblica sparirà subito.")
    assert dialogs == [confirm], "withdrawing did not ask for confirmation"
    page.wait_for_timeout(300)  # had the form gone regardless, its answer would be on its way
    assert page.url.endswith(edit_url)
    assert withdraw.is_visible(), "still the published article's editor"
    assert Article.objects.get(pk=article.pk).published_at is not None, "cancelling still withdrew the article"

    page.once("dialog", lambda dialog: (dialogs.append((dialog.type, dialog.message)), dialog.accept()))
    with page.expect_navigation():
        withdraw.click()
    assert len(dialogs) == 2
    assert "Notizia ritirata" in page.get_by_role("status").inner_text()
    assert Article.objects.get(pk=article.pk).published_at is None, "confirming did not withdraw the article"
    assert page.get_by_role("button", name="Pubblica", exact=True).is_visible(), "the editor now shows a draft"
    response = page.goto(article.get_absolute_url())
    assert response.status == 404, "the withdrawn article's public page is still there"
    assert "Il tavolo welfare cerca volontari" not in public_titles(page)


def test_new_article_page_has_no_axe_violations(demo, coordinator_page, assert_accessible):
    page = coordinator_page
    response = page.goto(f"{DESK}nuova/")
    assert response.ok, f"{DESK}nuova/ answered {response.status}"
    assert page.locator("h1").inner_text() == "Nuova notizia"
    assert_accessible(page, "new article")


def test_edit_page_with_preview_has_no_axe_violations(demo, coordinator, coordinator_page, assert_accessible):
    """The preview puts the rendered Markdown (headings, lists, links, in both languages) inside the editor."""
    from network.models import Article

    page = coordinator_page
    article = make_article(demo, coordinator, "Anteprima del bando")
    page.goto(f"{DESK}{article.pk}/")
    page.locator("#id_body").fill(
        "Un paragrafo con **grassetto** e *corsivo*.\n\n"
        "## Come partecipare\n\n"
        "- iscriviti al [tavolo](https://example.org/tavolo)\n"
        "- porta un'idea\n"
    )
    page.locator("#id_title_en").fill("Preview of the call")
    page.locator("#id_body_en").fill("A paragraph with a [link](https://example.org/).")
    with page.expect_navigation():
        page.get_by_role("button", name="Anteprima").click()

    preview = page.locator("section[aria-labelledby='preview-title']")
    assert preview.is_visible()
    assert preview.locator("article.mire-preview").count() == 2, "one preview per language"
    assert preview.locator("strong", has_text="grassetto").is_visible()
    assert preview.locator("h2", has_text="Come partecipare").is_visible()
    assert preview.locator("li").count() == 2
    assert Article.objects.get(pk=article.pk).body == "Primo paragrafo.", "the preview saved the article"
    assert_accessible(page, "edit page with preview")
