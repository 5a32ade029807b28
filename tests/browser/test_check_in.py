"""The check-in page as door staff use it: type a code, admit, take a mistaken admission back."""

import pytest

from .helpers import sign_in

pytestmark = pytest.mark.browser

ORG_ADMIN = "admin@officine-lambrate.example.org"


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}])
def test_a_mistaken_check_in_is_undone_with_one_click(demo_events, new_page, viewport):
    """The undo button appears under the focused code field: its first click must count.

    Bootstrap Italia moves a field's label back into an empty field when it loses focus; the
    mousedown on the button blurred the field, the page moved up under the pointer and the click
    landed beside the button. The label is static on this page.
    """
    from network.models import Organisation

    event = demo_events.upcoming
    event.organisers.add(Organisation.objects.get(territory=event.territory, slug="officine-lambrate"))
    registration = demo_events.registration
    page = new_page(viewport=viewport)
    url = f"/milano/eventi/{event.slug}/accoglienza/"
    sign_in(page, ORG_ADMIN, url)

    page.fill("#code", registration.ticket_code)
    page.keyboard.press("Enter")
    page.locator("#check-in-result .alert-success").wait_for()
    registration.refresh_from_db()
    assert registration.checked_in_at is not None

    page.get_by_role("button", name="Annulla questo ingresso").click()
    page.locator("#check-in-result .alert-info").wait_for(timeout=5_000)
    assert "Ingresso annullato" in page.locator("#check-in-result").inner_text()
    assert "Presenti: 0 su" in page.locator("#attendance").inner_text()
    registration.refresh_from_db()
    assert registration.checked_in_at is None
    assert page.evaluate("document.activeElement.id") == "code"  # ready for the next ticket


def test_without_a_camera_the_focus_goes_to_the_code_field(demo_events, new_page):
    """Chromium here has no camera: the scan button says so and hides itself, and the focus it held
    goes where the code is typed (before, it fell to the page's body)."""
    from network.models import Organisation

    event = demo_events.upcoming
    event.organisers.add(Organisation.objects.get(territory=event.territory, slug="officine-lambrate"))
    page = new_page(viewport={"width": 390, "height": 844})
    sign_in(page, ORG_ADMIN, f"/milano/eventi/{event.slug}/accoglienza/")

    page.locator("#scan-button").focus()
    page.keyboard.press("Enter")
    page.get_by_role("alert").filter(has_text="Fotocamera").wait_for(timeout=5_000)
    assert page.locator("#scan-button").is_hidden()
    assert page.evaluate("document.activeElement.id") == "code"
