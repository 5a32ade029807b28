"""Outgoing mail: rendered from templates, kept as a page, sent by the background worker."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import strip_tags
from django_tasks import task

from .models import SentMail, SentMailAttachment
from .tasks import enqueue_after_commit

Attachment = tuple[str, bytes, str]  # filename, content, MIME type


def recipient_language(user) -> str:
    """The language to write to a person in: the one they last chose on the site, else the site's."""
    return getattr(user, "language", "") or settings.LANGUAGE_CODE


def send_templated_mail(
    *, to: str, template: str, context: dict[str, Any], language: str,
    attachments: list[Attachment] | None = None,
) -> SentMail:
    """Render `<template>_subject.txt`, `.txt` and `.html` in `language`, store them, send after commit.

    `language` is the recipient's, never the request's: a coordinator browsing in English decides
    an Italian applicant's request, an Italian provider cancels an English-speaking worker's order.
    The stored copy gives each message a web address ("read it in the browser") and survives a
    worker crash: the task only carries the row's id. The task row is written in the caller's
    transaction (see enqueue_after_commit): a process that dies right after the commit has queued
    the mail already, where a callback run after the commit would have lost it.
    """
    sent = SentMail(to=to)
    context = {**context, "site_url": settings.SITE_URL, "web_url": settings.SITE_URL + sent.get_absolute_url()}
    with translation.override(language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE):
        sent.subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())[:255]
        sent.body_text = render_to_string(f"{template}.txt", context)
        sent.body_html = render_to_string(f"{template}.html", context)
    # The copy and its task together, also when the caller has no transaction open (no savepoint
    # when it has one: they go with the caller's change).
    with transaction.atomic(savepoint=False):
        sent.save()
        SentMailAttachment.objects.bulk_create(
            SentMailAttachment(sent_mail=sent, filename=name, content=content, mimetype=mimetype)
            for name, content, mimetype in attachments or []
        )
        enqueue_after_commit((deliver_mail, (sent.pk,)))
    return sent


def keep_and_send(message: EmailMessage) -> list[SentMail]:
    """Queue a message rendered elsewhere (allauth's: address confirmation, password reset) the way
    ours go: a copy kept as a page, delivered by the background worker after commit, so a relay that
    is slow or down never turns the page that sends it into an error."""
    html = next((content for content, mimetype in getattr(message, "alternatives", []) if mimetype == "text/html"), "")
    text = message.body
    if message.content_subtype == "html":
        html, text = message.body, strip_tags(message.body)
    with transaction.atomic(savepoint=False):
        kept = [SentMail.objects.create(to=to, subject=" ".join(message.subject.split())[:255], body_text=text,
                                        body_html=html) for to in message.to]
        enqueue_after_commit(*((deliver_mail, (sent.pk,)) for sent in kept))
    return kept


def forget_mail(*, to: str, mentioning: str) -> int:
    """Delete the stored copies of the mail sent to `to` that mention `mentioning` (a registration's
    secret token, say): when a person's data is erased, the messages written to them go too.
    A copy not yet delivered is then never sent. Returns how many."""
    deleted, _per_model = SentMail.objects.filter(to=to, body_text__contains=mentioning).delete()
    return deleted


def prune_sent_mail(*, now=None) -> int:
    """Delete the stored copies older than MAIL_COPY_RETENTION_DAYS, with their attachments."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.MAIL_COPY_RETENTION_DAYS)
    _total, per_model = SentMail.objects.filter(created_at__lt=cutoff).delete()
    return per_model.get(SentMail._meta.label, 0)


@task()
def deliver_mail(sent_mail_id: int) -> None:
    sent = SentMail.objects.filter(pk=sent_mail_id).first()
    # Erased with its recipient's data before the worker got to it, or delivered by an earlier run of
    # this task (one that died after sending may still send it twice: at least once, not exactly once).
    if sent is None or sent.sent_at is not None:
        return
    message = EmailMultiAlternatives(sent.subject, sent.body_text, settings.DEFAULT_FROM_EMAIL, [sent.to])
    if sent.body_html:
        message.attach_alternative(sent.body_html, "text/html")
    for attachment in sent.attachments.all():
        message.attach(attachment.filename, bytes(attachment.content), attachment.mimetype)
    message.send()
    SentMail.objects.filter(pk=sent.pk).update(sent_at=timezone.now())
