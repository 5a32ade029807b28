"""Mail is queued in the transaction that decides it: a process that dies after the commit has
queued it already, and a change that rolls back queues nothing."""

import pytest
from django.core import mail
from django.core.mail import EmailMessage
from django.db import transaction

from core.mail import deliver_mail, keep_and_send, send_templated_mail
from core.models import SentMail

pytestmark = pytest.mark.django_db

TEMPLATE = "welfare/email/provider_invitation"


@pytest.fixture
def database_tasks(settings):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    return DBTaskResult.objects.filter(task_path="core.mail.deliver_mail")


def _send(to: str = "lavoratrice@example.org") -> SentMail:
    context = {"proposal": {"name": "Bottega del quartiere"}, "territory": {"network_name": "Rete Milano"},
               "join_url": "https://example.org/aderisci/"}
    return send_templated_mail(to=to, template=TEMPLATE, context=context, language="it")


def test_the_delivery_is_queued_with_the_change_and_not_by_a_callback_after_it(database_tasks):
    with transaction.atomic():
        sent = _send()
    # The test's transaction never commits, so no on-commit callback has run: the task row is
    # there because it was written in the same transaction as the copy of the mail.
    [queued] = database_tasks
    assert queued.args_kwargs["args"] == [sent.pk]

    deliver_mail.call(*queued.args_kwargs["args"])  # what the worker does with it
    [message] = mail.outbox
    assert message.to == ["lavoratrice@example.org"]


def test_a_change_that_rolls_back_queues_no_mail(database_tasks):
    class Refused(Exception):
        pass

    with pytest.raises(Refused), transaction.atomic():
        _send()
        raise Refused
    assert not database_tasks.exists()
    assert not SentMail.objects.exists()


def test_mail_rendered_elsewhere_is_queued_the_same_way(database_tasks):
    with transaction.atomic():
        [kept] = keep_and_send(EmailMessage("Conferma il tuo indirizzo", "Apri il link.", to=["nuovo@example.org"]))
    [queued] = database_tasks
    assert queued.args_kwargs["args"] == [kept.pk]


def test_with_the_tests_immediate_backend_mail_still_goes_only_after_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _send()
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


def test_a_delivery_run_again_sends_nothing_more(database_tasks):
    with transaction.atomic():
        sent = _send()
    deliver_mail.call(sent.pk)
    deliver_mail.call(sent.pk)  # the task again, put back in the queue after its worker died
    assert len(mail.outbox) == 1
    sent.refresh_from_db()
    assert sent.sent_at is not None
