"""`manage.py serve`: the development server and its worker agree on the address mail links lead to."""

import os

import pytest
from django.core.management import call_command

from core.management.commands import serve


class FakeWorker:
    def __init__(self, args):
        self.args, self.environ = args, dict(os.environ)  # what the child process would inherit

    def terminate(self):
        pass

    def wait(self, timeout=None):
        pass


@pytest.fixture
def started(monkeypatch, settings):
    """serve's worker and server, recorded instead of started."""
    seen = {}
    # Both put back after the test, whatever serve sets: the variable (set, then removed, through
    # monkeypatch) and the setting (overridden through pytest-django's fixture).
    monkeypatch.setenv("SITE_URL", "")
    monkeypatch.delenv("SITE_URL")
    settings.SITE_URL = "http://127.0.0.1:8000"
    monkeypatch.setattr(serve.subprocess, "Popen", lambda args: seen.setdefault("worker", FakeWorker(args)))
    monkeypatch.setattr(serve, "call_command", lambda *args, **kw: seen.setdefault("server", (args, settings.SITE_URL)))
    return seen


@pytest.mark.parametrize(("addrport", "site"), [("127.0.0.1:8201", "http://127.0.0.1:8201"), ("8202", "http://127.0.0.1:8202")])
def test_mail_links_lead_to_the_port_served(started, settings, addrport, site):
    call_command("serve", addrport)

    assert started["server"] == (("runserver", addrport), site)
    assert started["worker"].args[-1] == "db_worker" and started["worker"].environ["SITE_URL"] == site


def test_a_site_url_given_in_the_environment_wins(started, settings, monkeypatch):
    monkeypatch.setenv("SITE_URL", "https://mire.example.org")
    settings.SITE_URL = "https://mire.example.org"

    call_command("serve", "127.0.0.1:8201")

    assert started["server"][1] == "https://mire.example.org"
    assert started["worker"].environ["SITE_URL"] == "https://mire.example.org"
