import re

import pytest
from django.core import mail
from django.urls import reverse

from core.models import AuditLog
from network.models import JoinRequest

pytestmark = pytest.mark.django_db

GOOD = {
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


def test_join_form_with_bad_partita_iva_shows_error_and_stores_nothing(client, territory):
    response = client.post(reverse("network:join", kwargs={"territory": "milano"}), {**GOOD, "vat_number": "01234560158"})
    assert response.status_code == 422
    assert "cifra di controllo" in response.content.decode()
    assert JoinRequest.objects.count() == 0
    assert mail.outbox == []


def test_join_form_requires_privacy_acknowledgement(client, territory):
    data = {k: v for k, v in GOOD.items() if k != "privacy_acknowledged"}
    response = client.post(reverse("network:join", kwargs={"territory": "milano"}), data)
    assert response.status_code == 422
    assert "informativa privacy" in response.content.decode()
    assert JoinRequest.objects.count() == 0


def test_join_then_approve_creates_organisation_admin_and_mails(client, client_as, territory, personas, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("network:join", kwargs={"territory": "milano"}), GOOD)
    assert response.status_code == 302
    jr = JoinRequest.objects.get()
    assert [m.to for m in mail.outbox] == [["anna@sartoria.example.org"], ["coordinator@example.org"]]

    coordinator = client_as(personas["coordinator"])
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(reverse("network:approve_join_request", kwargs={"territory": "milano", "pk": jr.pk}))
    assert response.status_code == 302
    jr.refresh_from_db()
    assert jr.status == "approved"
    assert jr.organisation.roles.get().user.email == "anna@sartoria.example.org"
    assert "password" in mail.outbox[-1].body
    assert AuditLog.objects.filter(action="join_request.approved", object_id=str(jr.pk)).exists()


def test_purge_erases_applications_past_retention_and_keeps_recent_ones(territory, personas):
    from datetime import timedelta

    from django.utils import timezone

    from network.services import JOIN_REQUEST_RETENTION, purge_expired_join_requests

    def application(name, status, age):
        return JoinRequest.objects.create(
            territory=territory, name=name, kind="association", requested_role="partner", tax_code="01234560157",
            contact_name="Anna Rossi", email="anna@example.org", phone="02 1234", privacy_acknowledged_at=timezone.now(),
            status=status, decided_at=timezone.now() - age,
        )

    old_rejected = application("Vecchia respinta", "rejected", JOIN_REQUEST_RETENTION + timedelta(days=1))
    old_approved = application("Vecchia approvata", "approved", JOIN_REQUEST_RETENTION + timedelta(days=1))
    recent = application("Recente", "rejected", timedelta(days=30))

    assert purge_expired_join_requests() == 2

    assert not JoinRequest.objects.filter(pk=old_rejected.pk).exists()
    old_approved.refresh_from_db()
    assert (old_approved.contact_name, old_approved.phone) == ("", "")
    assert old_approved.email != "anna@example.org"
    recent.refresh_from_db()
    assert recent.email == "anna@example.org"
    assert AuditLog.objects.filter(action="join_request.purged").count() == 2
    assert purge_expired_join_requests() == 0


def partita_iva(n: int) -> str:
    from stdnum import luhn

    base = f"{n:07d}015"  # 7 digits, then the office code of Milan's province; Luhn's check digit last
    return base + luhn.calc_check_digit(base)


def test_join_form_is_rate_limited_per_address_and_the_limit_can_be_lifted(client, territory, settings):
    from network.views import JOIN_LIMIT_PER_HOUR

    url = reverse("network:join", kwargs={"territory": "milano"})
    # Someone correcting typos is not a flood: refused forms store nothing and do not count.
    for _ in range(JOIN_LIMIT_PER_HOUR + 2):
        assert client.post(url, {**GOOD, "vat_number": "1"}).status_code == 422
    for n in range(JOIN_LIMIT_PER_HOUR):
        code = partita_iva(n + 1)
        assert client.post(url, {**GOOD, "tax_code": code, "vat_number": code}).status_code == 302
    code = partita_iva(99)
    response = client.post(url, {**GOOD, "name": "Forno di Quartiere Srl", "tax_code": code, "vat_number": code})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    text = response.content.decode()
    assert "Troppe richieste inviate da questa connessione" in text and "riprova tra" in text
    assert 'value="Forno di Quartiere Srl"' in text  # what was typed is kept
    assert JoinRequest.objects.count() == JOIN_LIMIT_PER_HOUR

    settings.RATELIMIT_ENABLED = False
    assert client.post(url, {**GOOD, "tax_code": code, "vat_number": code}).status_code == 302


def test_the_same_organisation_sent_twice_at_once_is_filed_once(territory):
    from network import services

    data = {k: v for k, v in GOOD.items() if k != "privacy_acknowledged"}
    services.submit_join_request(territory=territory, data=data)
    with pytest.raises(services.JoinRequestPending):
        # What the second of two simultaneous requests meets: the form's check saw no request yet.
        services.submit_join_request(territory=territory, data={**data, "email": "altra@example.org"})
    assert JoinRequest.objects.count() == 1


def test_a_partita_iva_with_its_country_code_and_spaces_is_accepted(client, territory):
    url = reverse("network:join", kwargs={"territory": "milano"})
    response = client.post(url, {**GOOD, "vat_number": "IT 0123456 0157", "tax_code": " 0123 4560 157 "})
    assert response.status_code == 302
    assert JoinRequest.objects.values_list("vat_number", "tax_code").get() == ("01234560157", "01234560157")


@pytest.mark.parametrize("language, prompt", [("it", "Scegli…"), ("en", "Choose…")])
def test_join_form_selects_ask_to_choose_in_words(client, territory, language, prompt):
    page = client.get(reverse("network:join", kwargs={"territory": "milano"}), HTTP_ACCEPT_LANGUAGE=language)
    assert "---------" not in page.content.decode()  # Django's placeholder for an empty choice
    assert f'<option value="">{prompt}</option>' in page.content.decode()


def test_an_organisation_already_in_the_network_or_already_applying_cannot_apply_again(client, territory, firm):
    firm.tax_code = "01234560157"
    firm.save()
    url = reverse("network:join", kwargs={"territory": "milano"})
    again = client.post(url, {**GOOD, "name": "Officine bis", "email": "altro@example.org"})
    assert again.status_code == 422 and "fa già parte della rete" in again.content.decode()
    other = {**GOOD, "tax_code": "01199250158", "vat_number": "01199250158"}
    assert client.post(url, other).status_code == 302
    twice = client.post(url, {**other, "email": "altro@example.org"})
    assert twice.status_code == 422 and "già una richiesta di adesione in esame" in twice.content.decode()
    assert JoinRequest.objects.count() == 1


def test_approving_a_request_for_a_member_that_joined_meanwhile_is_refused(client_as, territory, personas):
    from conftest import make_organisation
    from network import services
    from network.models import Organisation

    data = {k: v for k, v in GOOD.items() if k != "privacy_acknowledged"}
    pending = services.submit_join_request(territory=territory, data={**data, "tax_code": "01199250158"})
    # Added meanwhile by other means (the admin site), with the same codice fiscale.
    make_organisation(territory, "Sartoria già dentro", tax_code="01199250158")
    coordinator = client_as(personas["coordinator"])
    answer = coordinator.post(reverse("network:approve_join_request", kwargs={"territory": "milano", "pk": pending.pk}),
                              follow=True)
    assert "fa già parte della rete" in answer.content.decode()
    assert Organisation.objects.filter(tax_code="01199250158").count() == 1
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_a_wrong_11_digit_codice_fiscale_is_called_a_codice_fiscale(client, territory):
    answer = client.post(reverse("network:join", kwargs={"territory": "milano"}), {**GOOD, "tax_code": "01234560158"})
    text = answer.content.decode()
    assert answer.status_code == 422
    assert "Il codice fiscale di 11 cifre non è valido" in text and "La partita IVA non è valida" not in text


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_double_click_on_the_join_form_files_one_request(territory, monkeypatch):
    import threading

    from django.db import connection
    from django.test import Client

    from network import forms

    # Both requests pass the form's "already applying?" check before either is stored.
    checked = threading.Barrier(2, timeout=10)
    clean_tax_code = forms.JoinRequestForm.clean_tax_code

    def clean_then_wait(self):
        code = clean_tax_code(self)
        checked.wait()
        return code

    monkeypatch.setattr(forms.JoinRequestForm, "clean_tax_code", clean_then_wait)
    url = reverse("network:join", kwargs={"territory": "milano"})
    statuses: list[object] = []

    def submit():
        try:
            statuses.append(Client().post(url, GOOD).status_code)
        except Exception as error:  # shown by the assertion rather than lost in the thread
            statuses.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses, key=str) == [302, 422]
    assert JoinRequest.objects.count() == 1


def test_the_join_form_offers_phones_the_right_keypad_and_speaks_to_the_person(client, territory):
    page = client.get(reverse("network:join", kwargs={"territory": "milano"})).content.decode()
    assert re.search(r'<input type="tel" name="phone"', page)
    assert re.search(r'name="postal_code"[^>]*inputmode="numeric"', page)
    assert re.search(r'name="name"[^>]*autocomplete="organization"', page)
    assert "Perché la tua organizzazione vuole aderire" in page and "volete" not in page
