"""The coordinator decides join requests: one decision per request, each with its audit row and mail."""

import threading
import time

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from conftest import make_organisation, make_user
from core import audit
from core.models import AuditLog, SentMail
from network import services
from network.models import Article, JoinRequest, Organisation

pytestmark = pytest.mark.django_db

REASON = "La vostra sede è fuori dal territorio della rete."


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The default hasher (1M PBKDF2 rounds) makes each `personas` set-up take seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_join_request(territory, name: str = "Sartoria Porta Romana Srl", email: str = "anna@sartoria.example.org",
                      tax_code: str = "01234560157"):
    return JoinRequest.objects.create(
        territory=territory,
        name=name,
        kind="firm",
        size_class="micro",
        requested_role="member_firm",
        tax_code=tax_code,
        vat_number=tax_code,
        contact_name="Anna Rossi",
        email=email,
        privacy_acknowledged_at=timezone.now(),
    )


@pytest.fixture
def jr(territory):
    return make_join_request(territory)


@pytest.fixture
def coordinator(client_as, personas):
    return client_as(personas["coordinator"])


def url(name: str, jr: JoinRequest) -> str:
    return reverse(name, kwargs={"territory": jr.territory.slug, "pk": jr.pk})


def rows_of(page) -> str:
    """The audit log's table, without its filter (whose choices name every action)."""
    html = page if isinstance(page, str) else page.content.decode()
    return html.split("<tbody>", 1)[1] if "<tbody>" in html else ""


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_rejecting_without_a_reason_is_refused_and_changes_nothing(coordinator, jr):
    response = coordinator.post(url("network:reject_join_request", jr), {"reason": "  "})
    assert response.status_code == 422
    assert "Questo campo è obbligatorio" in response.content.decode()
    jr.refresh_from_db()
    assert (jr.status, jr.decided_at, jr.rejection_reason) == ("pending", None, "")
    assert not AuditLog.objects.exists()
    assert not SentMail.objects.exists()


def test_rejection_mails_the_reason_to_the_applicant(coordinator, personas, jr, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(url("network:reject_join_request", jr), {"reason": REASON}, follow=True)
    assert "Richiesta respinta" in " ".join(messages_of(response))
    jr.refresh_from_db()
    assert (jr.status, jr.rejection_reason, jr.decided_by) == ("rejected", REASON, personas["coordinator"])
    [message] = mail.outbox
    assert message.to == ["anna@sartoria.example.org"]
    assert REASON in message.body
    # Sent from a no-reply address: the mail says whom to write to instead of inviting a reply.
    assert "rispondere a questo messaggio" not in message.body
    assert "Per chiarimenti scrivi al coordinamento della rete" in message.body
    assert not Organisation.objects.filter(name=jr.name).exists()
    entry = AuditLog.objects.get(action="join_request.rejected")
    assert (entry.object_id, entry.actor, entry.changes) == (str(jr.pk), personas["coordinator"], {"reason": REASON})


def test_approval_creates_the_organisation_and_its_admin(coordinator, jr, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(url("network:approve_join_request", jr), follow=True)
    assert "fa ora parte della rete" in " ".join(messages_of(response))
    jr.refresh_from_db()
    organisation = jr.organisation
    assert (jr.status, organisation.name, organisation.territory) == ("approved", jr.name, jr.territory)
    admin = User.objects.get(email="anna@sartoria.example.org")
    assert not admin.has_usable_password()  # chosen through the link in the mail
    assert Role.objects.filter(user=admin, kind="org_admin", organisation=organisation).exists()
    assert [m.to for m in mail.outbox] == [["anna@sartoria.example.org"]]
    assert "/account/password/reset/key/" in mail.outbox[0].body
    assert set(AuditLog.objects.values_list("action", flat=True)) == {"join_request.approved", "organisation.created"}


def test_approval_publishes_nothing_the_applicant_wrote_only_to_the_coordinators(
    coordinator, client, territory, django_capture_on_commit_callbacks
):
    jr = make_join_request(territory)
    JoinRequest.objects.filter(pk=jr.pk).update(phone="+39 333 1234567", motivation="Abbiamo tre dipendenti con figli piccoli.",
                                                website="https://sartoria.example.org")
    with django_capture_on_commit_callbacks(execute=True):
        coordinator.post(url("network:approve_join_request", jr))
    organisation = Organisation.objects.get(name=jr.name)
    assert (organisation.email, organisation.phone, organisation.description) == ("", "", "")
    assert organisation.website == "https://sartoria.example.org"  # the organisation's own, public anyway
    page = client.get(organisation.get_absolute_url()).content.decode()
    assert "anna@sartoria.example.org" not in page and "333 1234567" not in page and "figli piccoli" not in page
    assert "non sono pubblicati" in mail.outbox[-1].body
    # …and says what is: the address and website written in the request (the join form says so too).
    assert "mostra il nome, l'indirizzo e il sito indicati nella richiesta" in mail.outbox[-1].body
    assert "compaiono nella sua scheda pubblica" in client.get(reverse("network:join", kwargs={"territory": "milano"})).content.decode()


def test_the_coordinator_changes_name_kind_role_and_membership_the_admin_cannot(client_as, personas, firm):
    edit = reverse("network:organisation_edit", kwargs={"territory": firm.territory.slug, "slug": firm.slug})
    admin_page = client_as(personas["org_admin"]).get(edit).content.decode()
    assert 'name="name"' not in admin_page and "li cambia il coordinamento" in admin_page
    client_as(personas["org_admin"]).post(edit, {"name": "Nome nuovo", "kind": "association", "email": "info@officine.example.org"})
    firm.refresh_from_db()
    assert (firm.name, firm.kind, firm.email) == ("Officine Test", "firm", "info@officine.example.org")

    coordinator = client_as(personas["coordinator"])
    page = coordinator.get(edit).content.decode()
    assert 'name="name"' in page and 'name="is_active"' in page
    refused = coordinator.post(edit, {"name": "Officine Riunite", "kind": "association", "size_class": "small",
                                      "network_role": "member_firm", "is_active": "on"})
    assert refused.status_code == 422 and "solo per le imprese" in refused.content.decode()
    firm.refresh_from_db()
    assert firm.name == "Officine Test"
    done = coordinator.post(edit, {"name": "Officine Riunite", "kind": "firm", "size_class": "medium",
                                   "network_role": "partner", "email": "info@officine.example.org"})
    assert done.status_code == 302
    # Taken out of the network: not sent to its page, now a 404, but told so, with the way back.
    landed = coordinator.get(done["Location"])
    assert landed.status_code == 200
    members = reverse("network:members", kwargs={"territory": "milano"})
    assert "non fa più parte della rete" in landed.content.decode()
    assert f'<a href="{members}?stato=out">organizzazioni fuori dalla rete</a>' in landed.content.decode()
    # There it is, with the way to readmit it; not among those in the network.
    assert f'href="{edit}">Modifica o riammetti' in coordinator.get(members, {"stato": "out"}).content.decode()
    assert "Officine Riunite" not in coordinator.get(members).content.decode()
    firm.refresh_from_db()
    assert (firm.name, firm.size_class, firm.network_role, firm.is_active) == ("Officine Riunite", "medium", "partner", False)
    assert firm.slug == "officine-test"  # shared links keep working
    entry = AuditLog.objects.filter(action="organisation.left_network").latest("pk")
    assert entry.actor == personas["coordinator"] and entry.changes["name"] == ["Officine Test", "Officine Riunite"]
    assert entry.changes["is_active"] == [True, False]
    log = coordinator.get(reverse("network:audit_log", kwargs={"territory": "milano"})).content.decode()
    assert "sì → no" in log and "True" not in log  # the log said "True → False"

    page = coordinator.get(edit).content.decode()
    assert "non fa parte della rete" in page and f'href="{members}?stato=out"' in page  # not a link to its 404
    back = coordinator.post(edit, {"name": "Officine Riunite", "kind": "firm", "size_class": "medium",
                                   "network_role": "partner", "email": "info@officine.example.org", "is_active": "on"},
                            follow=True)
    assert "è di nuovo nella rete" in back.content.decode()
    assert AuditLog.objects.filter(action="organisation.readmitted", object_id=str(firm.pk)).exists()


def test_approving_for_an_address_that_already_has_an_account_reuses_it(
    coordinator, personas, territory, django_capture_on_commit_callbacks
):
    worker = personas["worker"]
    jr = make_join_request(territory, name="Bottega di Quartiere", email=worker.email.upper())
    users_before = User.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        coordinator.post(url("network:approve_join_request", jr))
    jr.refresh_from_db()
    assert User.objects.count() == users_before
    assert Role.objects.filter(user=worker, kind="org_admin", organisation=jr.organisation).exists()
    worker.refresh_from_db()
    assert worker.has_usable_password()  # their password still works
    [message] = mail.outbox
    assert "/account/login/" in message.body
    assert "/account/password/reset/key/" not in message.body
    entry = AuditLog.objects.get(action="join_request.approved")
    assert entry.changes["new_account"] is False


@pytest.mark.parametrize("first", ["approve", "reject"])
@pytest.mark.parametrize("then", ["approve", "reject"])
def test_a_decided_request_cannot_be_decided_again(coordinator, jr, first, then, django_capture_on_commit_callbacks):
    decide = {
        "approve": lambda: coordinator.post(url("network:approve_join_request", jr), follow=True),
        "reject": lambda: coordinator.post(url("network:reject_join_request", jr), {"reason": REASON}, follow=True),
    }
    with django_capture_on_commit_callbacks(execute=True):
        decide[first]()
    jr.refresh_from_db()
    decided = (jr.status, jr.decided_at, jr.rejection_reason, jr.organisation_id)
    counts = (Organisation.objects.count(), AuditLog.objects.count(), len(mail.outbox))

    response = decide[then]()
    assert response.request["PATH_INFO"] == url("network:join_request", jr)
    assert "Questa richiesta è già stata decisa." in messages_of(response)
    jr.refresh_from_db()
    assert (jr.status, jr.decided_at, jr.rejection_reason, jr.organisation_id) == decided
    assert (Organisation.objects.count(), AuditLog.objects.count(), len(mail.outbox)) == counts


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_a_failure_after_the_audit_row_rolls_back_the_whole_decision(monkeypatch, personas, jr, decision):
    def broken_mail(**kwargs):
        raise RuntimeError("template error")

    monkeypatch.setattr(services, "send_templated_mail", broken_mail)
    users_before = User.objects.count()
    with pytest.raises(RuntimeError):
        if decision == "approve":
            services.approve_join_request(join_request=jr, actor=personas["coordinator"])
        else:
            services.reject_join_request(join_request=jr, actor=personas["coordinator"], reason=REASON)
    jr.refresh_from_db()
    assert (jr.status, jr.decided_at, jr.organisation_id, jr.rejection_reason) == ("pending", None, None, "")
    assert not AuditLog.objects.exists()
    assert not Organisation.objects.filter(name=jr.name).exists()
    assert User.objects.count() == users_before
    assert mail.outbox == []


def test_audit_log_filters_by_action_and_shows_only_the_territory(
    coordinator, personas, territory, other_territory, django_capture_on_commit_callbacks
):
    approved = make_join_request(territory, "Approvata Srl")
    rejected = make_join_request(territory, "Respinta Srl", tax_code="01199250158")
    with django_capture_on_commit_callbacks(execute=True):
        coordinator.post(url("network:approve_join_request", approved))
        coordinator.post(url("network:reject_join_request", rejected), {"reason": REASON})
    bergamo_request = make_join_request(other_territory, "Segreta Bergamasca Srl")
    audit.record(
        actor="someone@bergamo.example.org",
        action="join_request.rejected",
        obj=bergamo_request,
        territory=other_territory,
    )
    log = reverse("network:audit_log", kwargs={"territory": "milano"})

    everything = coordinator.get(log).content.decode()
    assert "Approvata Srl" in everything and "Respinta Srl" in everything
    assert "Segreta Bergamasca" not in everything

    only_rejections = coordinator.get(log, {"action": "join_request.rejected"}).content.decode()
    assert "Respinta Srl" in rows_of(only_rejections)
    assert "Approvata Srl" not in rows_of(only_rejections)
    assert "Segreta Bergamasca" not in only_rejections

    by_prefix = rows_of(coordinator.get(log, {"action": "organisation"}))
    assert "organisation.created" in by_prefix
    assert "join_request." not in by_prefix
    # The filter offers the actions by their names; the one chosen stays chosen.
    assert '<option value="join_request.rejected" selected>Richiesta di adesione respinta</option>' in only_rejections
    assert 'name="action"' in everything and "Tutte le azioni" in everything


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_coordinators_approving_at_once_make_one_organisation(territory, monkeypatch):
    # Each thread has its own database connection, so the lock in services._lock_pending is really
    # contended (on SQLite the IMMEDIATE transactions queue instead). Work done under the lock is
    # slowed down so that the second approval surely arrives while the first one holds it.
    unique_slug = services._unique_slug

    def slow_unique_slug(*args, **kwargs):
        time.sleep(0.3)
        return unique_slug(*args, **kwargs)

    monkeypatch.setattr(services, "_unique_slug", slow_unique_slug)
    first, second = make_user("prima@example.org"), make_user("seconda@example.org")
    for user in (first, second):
        Role.objects.create(user=user, kind=Role.Kind.COORDINATOR, territory=territory)
    jr = make_join_request(territory)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(actor):
        try:
            start.wait()
            services.approve_join_request(join_request=JoinRequest.objects.get(pk=jr.pk), actor=actor)
            outcomes.append("approved")
        except services.JoinRequestAlreadyDecided:
            outcomes.append("already decided")
        except Exception as error:  # shown in the assertion below rather than lost in the thread
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(user,)) for user in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["already decided", "approved"]
    assert Organisation.objects.filter(name=jr.name).count() == 1
    assert AuditLog.objects.filter(action="join_request.approved").count() == 1
    assert Role.objects.filter(kind="org_admin", organisation__name=jr.name).count() == 1
    jr.refresh_from_db()
    assert jr.status == "approved"


def test_the_audit_log_reads_as_sentences_with_old_and_new_values(coordinator, territory):
    organisation = make_organisation(territory, "Scheda Srl")
    audit.record(actor="someone@example.org", action="organisation.profile_updated", obj=organisation,
                 territory=territory, changes={"website": ["", "https://scheda.example.org"], "phone": ["02 1", "02 2"]})
    page = coordinator.get(reverse("network:audit_log", kwargs={"territory": "milano"})).content.decode()
    assert "Scheda dell&#x27;organizzazione modificata" in page
    assert "<strong>sito web</strong>: — → https://scheda.example.org" in page
    assert "{&#x27;website&#x27;" not in page  # no Python dictionary on the page


def test_the_audit_log_shows_amounts_names_and_fields_as_people_say_them(coordinator, territory, firm):
    from welfare.tests.factories import make_plan

    make_plan(firm, name="Piano dei quadri", tiers={"quadri": 80000, "": 30050}, fund_cents=180050)
    log = reverse("network:audit_log", kwargs={"territory": "milano"})
    page = coordinator.get(log).content.decode()
    assert "<strong>importi per categoria</strong>: tutti: 300,50\N{NO-BREAK SPACE}€, quadri: 800,00\N{NO-BREAK SPACE}€" in page
    assert "<strong>importo</strong>: 1.800,50\N{NO-BREAK SPACE}€" in page
    assert f"<strong>organizzazione</strong>: {firm.name}" in page
    assert "<strong>piano della rete</strong>: no" in page
    assert "amount cents" not in page and "180050" not in page

    # A word of the action's name finds it, as does a word of its object.
    found = rows_of(coordinator.get(log, {"q": "versamento"}))
    assert "Versamento nel piano" in found and "Piano welfare creato" not in found
    assert "Piano welfare creato" in rows_of(coordinator.get(log, {"q": "quadri"}))
    assert "Nessuna attività corrisponde" in coordinator.get(log, {"q": "nessunaparola"}).content.decode()
    assert coordinator.get(log, {"q": "\x00" * 5, "page": "abc"}).status_code == 200
    assert coordinator.get(log, {"action": "welfare\x00"}).status_code == 200  # a NUL PostgreSQL refused (500)


def test_every_audit_action_the_code_records_has_a_name_for_people():
    import re
    from pathlib import Path

    from core.audit_labels import ACTION_LABELS
    from events.models import Registration
    from welfare.models import ProviderProposal, RefundRequest

    root = Path(__file__).resolve().parents[2]
    recorded = set()
    for path in root.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts or "migrations" in path.parts:
            continue
        for call in re.findall(r"audit\.record\((.*?)\)\n", path.read_text(), flags=re.S):
            recorded |= set(re.findall(r'(?<![f{])"([a-z_]+\.[a-z_.]+)"', call))
    recorded |= {f"registration.{s}" for s in Registration.Status.values}
    recorded |= {f"registration.promoted_{s}" for s in ("confirmed", "offered")}
    recorded |= {f"welfare.refund.{s}" for s in RefundRequest.Status.values if s != "pending"}
    recorded |= {f"welfare.provider.{s}" for s in ProviderProposal.Status.values if s != "new"}
    assert len(recorded) > 40
    assert sorted(recorded - set(ACTION_LABELS)) == []


def test_the_coordination_home_says_what_waits_and_leads_everywhere(coordinator, territory, jr):
    Article.objects.create(territory=territory, slug="bozza", title="Bozza", summary="S", body="B")
    page = coordinator.get(reverse("network:coordination", kwargs={"territory": "milano"})).content.decode()
    assert "1 richiesta da esaminare" in page and "1 bozza non pubblicata" in page
    for name in ("network:join_requests", "network:members", "network:manage_articles", "network:audit_log",
                 "events:event_list", "welfare:coordination"):
        assert f'href="{reverse(name, kwargs={"territory": "milano"})}"' in page, name
    # The header's "Coordinamento" leads here, and says so when here.
    assert 'aria-current="page"><span>Coordinamento</span>' in page


def test_the_members_list_searches_by_name_and_keeps_to_its_territory(coordinator, territory, other_territory):
    make_organisation(territory, "Forno Solidale")
    make_organisation(other_territory, "Forno Orobico")
    members = reverse("network:members", kwargs={"territory": "milano"})
    page = coordinator.get(members, {"q": "forno"}).content.decode()
    assert "Forno Solidale" in page and "Forno Orobico" not in page
    assert "Nessuna organizzazione con «pane» nel nome." in coordinator.get(members, {"q": "pane"}).content.decode()
    assert "Nessuna organizzazione è uscita dalla rete." in coordinator.get(members, {"stato": "out"}).content.decode()
