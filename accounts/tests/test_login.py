"""Signing in with email and password (allauth): verified addresses only, no sign-up, throttled, 2-step with TOTP."""

import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from accounts.models import User
from conftest import PASSWORD, make_user
from core.models import SentMail

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
DASHBOARD = reverse("accounts:dashboard")
TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # the one conftest.make_user(with_totp=True) activates


@pytest.fixture(autouse=True)
def _fast_password_hashing_and_fresh_rate_limits(settings):
    # allauth counts failed logins in the cache: without clearing it, one test's failures would
    # throttle the next. The default hasher (1M PBKDF2 rounds) would make every sign-in slow.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member(db):
    return make_user("giulia@example.org")


def current_code(secret: str) -> str:
    """The authenticator app's code now. allauth accepts only the current 30-second period
    (MFA_TOTP_TOLERANCE = 0), so a code taken at the very end of one would expire on the way."""
    if time.time() % 30 > 28:
        time.sleep(30 - time.time() % 30 + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def is_signed_in(client) -> bool:
    return SESSION_KEY in client.session


def test_verified_user_signs_in_with_email_and_password(client, member):
    response = sign_in(client, "Giulia@Example.org")
    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    page = client.get(DASHBOARD)
    assert page.status_code == 200
    assert "Hai effettuato l'accesso come giulia@example.org" in page.content.decode()
    assert "Accesso effettuato:" in page.content.decode()  # allauth's message, without its "Ti sei collegato"
    assert "collegato" not in page.content.decode()


def test_wrong_password_does_not_sign_in(client, member):
    response = sign_in(client, member.email, "non-è-questa")
    assert response.status_code == 200
    assert not is_signed_in(client)
    assert "non sono corretti" in response.content.decode()


def test_unverified_address_cannot_sign_in_until_confirmed(client, member, django_capture_on_commit_callbacks):
    EmailAddress.objects.filter(user=member).update(verified=False)
    with django_capture_on_commit_callbacks(execute=True):  # allauth's mails go after commit, like ours
        response = sign_in(client, member.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    assert not is_signed_in(client)
    [message] = mail.outbox  # the confirmation link…
    assert message.to == [member.email] and message.subject.startswith("[MIRE] ")
    assert message.body.startswith("Buongiorno,") and "La piattaforma MIRE" in message.body  # not "Ciao da <host>"
    kept = SentMail.objects.get(to=member.email)  # …also kept as a page, as every mail is
    assert kept.subject == message.subject and "/account/confirm-email/" in kept.body_text


def test_public_sign_up_is_closed(client):
    page = client.get(reverse("account_signup"))
    assert page.status_code == 200
    assert "Spiacenti, le registrazioni sono per il momento sospese." in page.content.decode()

    response = client.post(
        reverse("account_signup"),
        {
            "email": "intruso@example.org",
            "password1": "una-password-qualunque-1",
            "password2": "una-password-qualunque-1",
        },
    )
    assert "Spiacenti, le registrazioni sono per il momento sospese." in response.content.decode()
    assert not User.objects.filter(email="intruso@example.org").exists()
    assert not is_signed_in(client)
    assert mail.outbox == []


def test_repeated_failed_logins_are_throttled_even_with_the_right_password(client, member):
    # settings.ACCOUNT_RATE_LIMITS["login_failed"]: 5 failures per account every 5 minutes.
    for _attempt in range(5):
        response = sign_in(client, member.email, "tentativo-sbagliato")
        assert "Troppi tentativi" not in response.content.decode()
    response = sign_in(client, member.email)
    assert response.status_code in (200, 429)
    assert "l&#x27;accesso è sospeso per qualche minuto (al massimo 5)" in response.content.decode()
    assert "reimposta la password" in response.content.decode()
    assert not is_signed_in(client)


def test_throttling_one_account_leaves_others_alone(client, member):
    for _attempt in range(6):
        sign_in(client, member.email, "tentativo-sbagliato")
    other = make_user("marco@example.org")
    assert sign_in(client, other.email).status_code == 302
    assert is_signed_in(client)


def test_a_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": "nessuno@example.org"})
    assert response.status_code == 302  # the same "check your inbox" page as for a real account
    assert mail.outbox == [] and not SentMail.objects.exists()  # no invitation to a sign-up that is closed


def test_password_reset_mails_a_link_that_sets_a_new_password(client, member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": member.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [member.email]
    link = re.search(r"https?://[^/\s]+(/account/password/reset/key/\S+)", message.body).group(1)

    form = client.get(link, follow=True)  # allauth moves the key into the session, then shows the form
    assert form.status_code == 200
    response = client.post(
        form.request["PATH_INFO"],
        {
            "password1": "una-nuova-password-lunga",
            "password2": "una-nuova-password-lunga",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == DASHBOARD  # ACCOUNT_LOGIN_ON_PASSWORD_RESET: signed in, onward
    assert client.session[SESSION_KEY] == str(member.pk)
    client.logout()
    assert sign_in(client, member.email).status_code == 200  # the old password no longer works
    assert sign_in(client, member.email, "una-nuova-password-lunga").status_code == 302


def test_password_step_alone_does_not_sign_in_a_user_with_totp(client, personas):
    coordinator = personas["coordinator"]
    response = sign_in(client, coordinator.email)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert not is_signed_in(client)
    # Every page still treats them as a visitor.
    response = client.get(DASHBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert client.get(reverse("network:join_requests", kwargs={"territory": "milano"})).status_code == 302


def test_a_wrong_totp_code_keeps_the_user_out(client, personas):
    sign_in(client, personas["coordinator"].email)
    right = current_code(TOTP_SECRET)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post(reverse("mfa_authenticate"), {"code": wrong})
    assert response.status_code == 200
    assert not is_signed_in(client)


def test_totp_code_completes_the_sign_in(client, personas):
    coordinator = personas["coordinator"]
    sign_in(client, coordinator.email)
    code = current_code(TOTP_SECRET)
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    assert response["Location"] == DASHBOARD
    assert client.session[SESSION_KEY] == str(coordinator.pk)
    assert client.get(reverse("network:join_requests", kwargs={"territory": "milano"})).status_code == 200


@pytest.mark.parametrize("invited_as", ["worker", "org_admin"])
def test_someone_invited_by_mail_signs_in_once_they_set_a_password(client, territory, firm, coop, invited_as,
                                                                   django_capture_on_commit_callbacks):
    # The invitation's set-password link was mailed to the address: following it proves the mailbox,
    # so signing in must not then ask to confirm the address again.
    from network import services as network_services
    from network.models import JoinRequest
    from welfare import services as welfare_services
    from welfare.tests.factories import tax_code

    coordinator = make_user("coord@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        if invited_as == "worker":
            welfare_services.enrol_worker(organisation=firm, actor=None, data=welfare_services.WorkerData(
                tax_code=tax_code(7), first_name="Rosa", last_name="Verdi", email="rosa@example.org"))
        else:
            from django.utils import timezone
            jr = JoinRequest.objects.create(
                territory=territory, name="Forno Isola", kind="firm", requested_role="member_firm",
                tax_code="01234560157", contact_name="Rosa Verdi", email="rosa@example.org",
                privacy_acknowledged_at=timezone.now())
            network_services.approve_join_request(join_request=jr, actor=coordinator)
    assert not EmailAddress.objects.get(email="rosa@example.org").verified
    link = re.search(r"https?://[^/\s]+(/account/password/reset/key/\S+)", mail.outbox[-1].body).group(1)
    form = client.get(link, follow=True)
    assert "<h1>Scegli la tua password</h1>" in " ".join(form.content.decode().split()).replace("<h1> ", "<h1>").replace(" </h1>", "</h1>")
    answer = client.post(form.request["PATH_INFO"], {"password1": "una-nuova-password-lunga",
                                                     "password2": "una-nuova-password-lunga"})
    # Choosing the password signs them in and takes them to their dashboard, not to a dead end.
    assert answer.status_code == 302 and answer["Location"] == DASHBOARD
    assert is_signed_in(client)
    assert EmailAddress.objects.get(email="rosa@example.org").verified
    client.logout()
    signed_in = sign_in(client, "rosa@example.org", "una-nuova-password-lunga")
    assert signed_in.status_code == 302 and signed_in["Location"] == DASHBOARD


def test_a_password_reset_does_not_skip_the_totp_step(client, personas, django_capture_on_commit_callbacks):
    coordinator = personas["coordinator"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": coordinator.email})
    link = re.search(r"https?://[^/\s]+(/account/password/reset/key/\S+)", mail.outbox[-1].body).group(1)
    form = client.get(link, follow=True)
    answer = client.post(form.request["PATH_INFO"], {"password1": "una-nuova-password-lunga",
                                                     "password2": "una-nuova-password-lunga"})
    assert answer.status_code == 302 and answer["Location"] == reverse("mfa_authenticate")
    assert not is_signed_in(client)
    assert client.post(reverse("mfa_authenticate"), {"code": current_code(TOTP_SECRET)}).status_code == 302
    assert client.session[SESSION_KEY] == str(coordinator.pk)


@pytest.mark.parametrize("language, message", [
    ("it", "Questa password è troppo corta: deve avere almeno 10 caratteri."),
    ("en", "This password is too short: it must have at least 10 characters."),
])
def test_a_too_short_password_is_refused_in_the_pages_language(client, member, language, message,
                                                               django_capture_on_commit_callbacks):
    client.cookies["django_language"] = language
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("account_reset_password"), {"email": member.email})
    link = re.search(r"https?://[^/\s]+(/account/password/reset/key/\S+)", mail.outbox[0].body).group(1)
    form = client.get(link, follow=True)
    refused = client.post(form.request["PATH_INFO"], {"password1": "corta-1", "password2": "corta-1"})
    assert message in refused.content.decode()


def test_colleagues_behind_one_office_address_are_not_locked_out_by_each_others_typos(client):
    # Ten people of one office, each mistyping once: the per-address limit is not reached.
    colleagues = [make_user(f"collega{n}@comune.example.org") for n in range(12)]
    for person in colleagues[:11]:
        sign_in(client, person.email, "tentativo-sbagliato")
    assert sign_in(client, colleagues[11].email).status_code == 302
    assert is_signed_in(client)


def test_too_many_sign_ins_from_one_address_get_a_page_that_says_when_to_retry(client, member):
    # settings.ACCOUNT_RATE_LIMITS["login_failed"]: 30 a minute per address, whatever the account.
    for n in range(30):
        assert sign_in(client, f"persona{n}@example.org", "sbagliata").status_code == 200
    response = sign_in(client, "ancora@example.org", "sbagliata")
    assert response.status_code == 429
    assert response["Retry-After"] == "300"
    assert "Riprova tra 5 minuti" in response.content.decode()


def test_too_many_password_changes_get_the_same_page(client, member):
    client.force_login(member)
    url = reverse("account_change_password")
    data = {"oldpassword": "sbagliata", "password1": "Nuova-Passw0rd-123", "password2": "Nuova-Passw0rd-123"}
    statuses = [client.post(url, data).status_code for _attempt in range(6)]
    assert statuses[:5] == [200] * 5 and statuses[5] == 429


def test_lifting_the_limits_lifts_the_sign_in_ones_too(settings, client, member):
    settings.ACCOUNT_RATE_LIMITS = False  # what RATELIMIT_ENABLED=false sets (config/settings.py)
    assert all(sign_in(client, f"p{n}@example.org", "sbagliata").status_code == 200 for n in range(35))


@pytest.mark.parametrize(("rules", "minutes"), [("30/m/ip,5/5m/key", 5), ("10/h/key", 60), ("3/90s/ip", 2), ("", 1)])
def test_the_lockout_message_names_the_longest_wait_of_the_limits(settings, rules, minutes):
    from accounts.adapter import _lockout_minutes

    settings.ACCOUNT_RATE_LIMITS = {"login_failed": rules}
    assert _lockout_minutes() == minutes
