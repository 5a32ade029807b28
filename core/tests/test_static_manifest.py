"""Production serves static files from a hashed manifest: a {% static %} path that is not a file
answers 500 there, while development never notices. Render the pages with the manifest storage."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture
def manifest_storage(settings, tmp_path_factory):
    settings.STATIC_ROOT = tmp_path_factory.mktemp("static")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", "-v0")


def test_public_pages_render_with_hashed_static_files(manifest_storage, client, territory, firm):
    for url in ["/milano/", "/milano/organizzazioni/", firm.get_absolute_url(), "/milano/aderisci/",
                "/milano/eventi/", "/account/login/", "/pagine/privacy/"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert "/static/vendor/bootstrap-italia/css/bootstrap-italia.min." in response.content.decode()
