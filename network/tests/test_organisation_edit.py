import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from core.models import AuditLog

pytestmark = pytest.mark.django_db


def edit_url(org):
    return reverse("network:organisation_edit", kwargs={"territory": org.territory.slug, "slug": org.slug})


def png(size=(40, 20)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "blue").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_org_admin_updates_own_profile_with_logo_and_an_audit_row(client_as, personas, firm, media):
    client = client_as(personas["org_admin"])
    response = client.post(edit_url(firm), {
        "description": "Officina meccanica di quartiere.", "postal_code": "20134", "city": "Milano",
        "latitude": "45.4878", "longitude": "9.2401", "website": "https://officine.example.org",
        "logo": SimpleUploadedFile("logo.png", png(), content_type="image/png"),
    })
    assert response.status_code == 302
    firm.refresh_from_db()
    assert firm.description == "Officina meccanica di quartiere."
    assert firm.logo.name.startswith("logos/")
    assert firm.has_location
    entry = AuditLog.objects.get(action="organisation.profile_updated")
    assert entry.actor == personas["org_admin"]
    assert set(entry.changes) >= {"description", "postal_code", "latitude", "logo"}
    page = client.get(firm.get_absolute_url()).content.decode()
    assert "Officina meccanica di quartiere." in page
    assert "Modifica la scheda" in page


@pytest.mark.parametrize("persona", ["org_staff", "worker", "provider_staff", "helpdesk", "outsider"])
def test_only_the_org_admin_or_coordinator_may_edit(client_as, personas, firm, persona):
    client = client_as(personas[persona])
    assert client.get(edit_url(firm)).status_code == 403
    assert client.post(edit_url(firm), {"description": "hijacked"}).status_code == 403
    firm.refresh_from_db()
    assert firm.description != "hijacked"
    assert "Modifica la scheda" not in client.get(firm.get_absolute_url()).content.decode()


def test_coordinator_of_another_territory_cannot_edit(client_as, firm, other_coordinator):
    assert client_as(other_coordinator).get(edit_url(firm)).status_code == 403


@pytest.mark.parametrize("data, field, message", [
    ({"postal_code": "2013"}, "postal_code", "5 cifre"),
    ({"latitude": "45.4"}, "longitude", "sia la latitudine sia la longitudine"),
    ({"latitude": "95", "longitude": "9"}, "latitude", "tra -90 e 90"),
])
def test_bad_profile_input_is_explained_and_changes_nothing(client_as, personas, firm, data, field, message):
    before = firm.description
    response = client_as(personas["org_admin"]).post(edit_url(firm), {"description": "nuovo testo", **data})
    assert response.status_code == 422
    assert message in response.content.decode()
    firm.refresh_from_db()
    assert firm.description == before
    assert not AuditLog.objects.filter(action="organisation.profile_updated").exists()


def test_logo_must_be_a_small_image(client_as, personas, firm, media):
    client = client_as(personas["org_admin"])
    not_image = SimpleUploadedFile("logo.png", b"%PDF-1.4 not an image", content_type="image/png")
    response = client.post(edit_url(firm), {"logo": not_image})
    assert response.status_code == 422
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    response = client.post(edit_url(firm), {"logo": SimpleUploadedFile("logo.gif", gif.getvalue(), content_type="image/gif")})
    assert response.status_code == 422
    assert "PNG, JPEG o WebP" in response.content.decode()
    firm.refresh_from_db()
    assert not firm.logo


def test_the_edit_form_shows_stored_coordinates_in_a_number_field(client_as, personas, firm):
    firm.latitude, firm.longitude = "45.464200", "9.190000"
    firm.save()
    html = client_as(personas["org_admin"]).get(edit_url(firm)).content.decode()
    # A number input ignores "45,464200": the value must keep the decimal point in any language.
    assert 'value="45.464200"' in html and 'value="9.190000"' in html
