"""Mail speaks the recipient's language, not the language of whoever caused it."""

from datetime import date

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from accounts.models import User
from network import services as network_services
from network.models import JoinRequest
from welfare import services as welfare_services
from welfare.models import Category
from welfare.tests.factories import enrol, ensure_thresholds, make_plan, make_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_the_language_picked_while_signed_in_is_remembered(client_as, personas):
    client = client_as(personas["worker"])
    assert client.get("/lingua/en/?next=/").status_code == 302
    assert User.objects.get(pk=personas["worker"].pk).language == "en"
    client.get("/lingua/it/?next=/")
    assert User.objects.get(pk=personas["worker"].pk).language == "it"
    client.get("/lingua/xx/?next=/")  # 404, changes nothing
    assert User.objects.get(pk=personas["worker"].pk).language == "it"
    # A link on another site switches the page's language, not the account's.
    client.get("/lingua/en/?next=/", HTTP_SEC_FETCH_SITE="cross-site")
    assert User.objects.get(pk=personas["worker"].pk).language == "it"
    client.get("/lingua/en/?next=/", HTTP_SEC_FETCH_SITE="same-origin")
    assert User.objects.get(pk=personas["worker"].pk).language == "en"


def test_signing_in_remembers_the_language_of_the_page(client, personas):
    from conftest import PASSWORD

    client.cookies["django_language"] = "en"
    response = client.post("/account/login/", {"login": "worker@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(pk=personas["worker"].pk).language == "en"


def test_a_refund_decision_reaches_an_english_speaking_worker_in_english(
    client_as, territory, firm, coop, personas, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    ensure_thresholds()
    make_plan(firm, amount_cents=30000, fund_cents=300000, categories=[Category.EDUCATION])
    worker = enrol(firm, 1, user=personas["worker"])
    client_as(personas["worker"]).get("/lingua/en/?next=/")
    refund = welfare_services.request_refund(
        worker=worker, wallet=worker.wallets.get(), category=Category.EDUCATION, amount_cents=5000,
        description="Retta del nido", expense_date=date.today(),
        receipt=SimpleUploadedFile("r.pdf", b"%PDF-1.7"), key="k1", actor=personas["worker"],
    )
    mail.outbox.clear()
    with translation.override("it"), django_capture_on_commit_callbacks(execute=True):  # the admin works in Italian
        welfare_services.decide_refund(refund=refund, approve=False, reason="Manca la firma", actor=personas["org_admin"])
    [message] = mail.outbox
    assert message.subject.startswith("Refund rejected")
    assert "Manca la firma" in message.body
    assert '<html lang="en">' in message.alternatives[0][0]  # screen readers read it as English

    # …and a provider browsing in English cancels an Italian-speaking worker's voucher in Italian.
    User.objects.filter(pk=personas["worker"].pk).update(language="it")
    service = make_service(coop, price_cents=1000, category=Category.EDUCATION)
    order = welfare_services.place_order(worker=worker, service=service, key="o1", actor=personas["worker"])
    mail.outbox.clear()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        welfare_services.cancel_order(order=order, actor=personas["provider_staff"], reason="Corso sospeso")
    [message] = mail.outbox
    assert message.subject.startswith("Voucher annullato dal fornitore")
    assert '<html lang="it">' in message.alternatives[0][0]


def test_join_request_mails_follow_the_applicant_and_each_coordinator(
    client, personas, territory, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=personas["coordinator"].pk).update(language="en")
    data = {"name": "Bottega Isola Srl", "kind": "firm", "size_class": "micro", "requested_role": "member_firm",
            "tax_code": "01234560157", "vat_number": "01234560157", "contact_name": "Jane Doe",
            "email": "jane@bottega.example.org"}
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        join_request = network_services.submit_join_request(territory=territory, data=data)
    assert join_request.language == "en"
    received, to_review = sorted(mail.outbox, key=lambda m: m.to[0] != "jane@bottega.example.org")
    assert "adesione" not in received.subject  # the applicant wrote in English
    assert to_review.to == ["coordinator@example.org"] and to_review.subject.startswith("New join request")
    mail.outbox.clear()
    with translation.override("it"), django_capture_on_commit_callbacks(execute=True):
        network_services.approve_join_request(join_request=JoinRequest.objects.get(), actor=personas["coordinator"])
    [approved] = mail.outbox
    assert approved.subject.startswith("Welcome to")
    assert User.objects.get(email="jane@bottega.example.org").language == "en"


def test_a_join_request_from_the_italian_form_is_answered_in_italian(
    territory, personas, django_capture_on_commit_callbacks
):
    jr = JoinRequest.objects.create(
        territory=territory, name="Forno Lambrate", kind="firm", requested_role="member_firm",
        tax_code="01234560157", contact_name="Anna Rossi", email="anna@forno.example.org",
        privacy_acknowledged_at=timezone.now(),
    )
    assert jr.language == "it"
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):  # decided in English
        network_services.reject_join_request(join_request=jr, actor=personas["coordinator"], reason="Fuori territorio")
    [rejected] = mail.outbox
    assert rejected.subject.startswith("Esito della richiesta di adesione")
    assert "Fuori territorio" in rejected.body
