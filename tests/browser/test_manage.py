"""The coordinator's event page on a phone: each row a block, every action within reach."""

import pytest

pytestmark = pytest.mark.browser


def test_a_waiting_persons_row_fits_a_phone(demo_events, new_page, client, live_server):
    """The rows are stacked as "column: value" lines; the status cell's text, queue place and
    "Conferma fuori turno" button were laid side by side, and the button ran past the screen."""
    from accounts.models import User
    from events import services

    event = demo_events.upcoming
    event.refresh_from_db()
    event.capacity = event.seats_taken  # full: the next person waits
    event.save(update_fields=["capacity"])
    services.register_attendee(event=event, data={"first_name": "Marta", "last_name": "Bianchi",
                                                  "email": "marta.bianchi@example.org"})
    client.force_login(User.objects.get(email="coordinatore@mire.example.org"),
                       backend="django.contrib.auth.backends.ModelBackend")
    page = new_page(viewport={"width": 390, "height": 844})
    # Signed in as the test client is: the demo coordinator's TOTP step is not what this test is about.
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])
    page.goto(f"/milano/eventi/{event.slug}/gestione/?stato=waitlisted")

    button = page.get_by_role("button", name="Conferma fuori turno")
    assert "n. 1 in lista d'attesa" in page.locator("table").inner_text()
    box, width = button.bounding_box(), page.evaluate("document.documentElement.clientWidth")
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"{box} outside 0..{width}"
