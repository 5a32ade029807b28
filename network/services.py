"""Changes to the network's membership. Each is one transaction with its audit row; mail goes on commit."""

from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts.invitations import set_password_url
from accounts.models import Role, User
from core import audit
from core.links import free_slug
from core.mail import recipient_language, send_templated_mail
from core.models import Territory

from .models import Article, JoinRequest, Organisation

# The privacy notice of the join form promises this retention period (core/migrations/0002).
JOIN_REQUEST_RETENTION = timedelta(days=730)


class JoinRequestAlreadyDecided(Exception):
    """The request was approved or rejected by someone else first."""


class JoinRequestPending(Exception):
    """A request for the same organisation (tax code) is already waiting for the coordinators."""


class AlreadyMember(Exception):
    """An organisation with the request's codice fiscale is already in the network."""

    def __init__(self, organisation: Organisation):
        super().__init__(organisation.name)
        self.organisation = organisation


@transaction.atomic(durable=True)
def submit_join_request(*, territory: Territory, data: dict[str, Any], actor=None) -> JoinRequest:
    """Store a validated application and tell the applicant and the coordinators."""
    try:
        with transaction.atomic():
            join_request = JoinRequest.objects.create(
                territory=territory, privacy_acknowledged_at=timezone.now(), **data,
                language=translation.get_language() if translation.get_language() in dict(settings.LANGUAGES) else "it",
            )
    except IntegrityError:
        # join_request_one_pending_per_organisation: the same form sent twice at once.
        if JoinRequest.objects.filter(territory=territory, tax_code=data["tax_code"],
                                      status=JoinRequest.Status.PENDING).exists():
            raise JoinRequestPending from None
        raise
    audit.record(actor=actor or data["email"], action="join_request.submitted", obj=join_request, territory=territory)
    send_templated_mail(
        to=join_request.email,
        template="network/email/join_received",
        context={"join_request": join_request, "territory": territory},
        language=join_request.language,
    )
    review_url = settings.SITE_URL + reverse(
        "network:join_request", kwargs={"territory": territory.slug, "pk": join_request.pk}
    )
    coordinators = User.objects.filter(
        roles__kind=Role.Kind.COORDINATOR, roles__territory=territory, is_active=True
    ).distinct()
    for coordinator in coordinators:
        send_templated_mail(
            to=coordinator.email,
            template="network/email/join_to_review",
            context={"join_request": join_request, "territory": territory, "review_url": review_url},
            language=recipient_language(coordinator),
        )
    return join_request


def _lock_pending(join_request: JoinRequest) -> JoinRequest:
    # Two coordinators may decide at once: lock the row and re-read its state under the lock.
    locked = JoinRequest.objects.select_for_update().get(pk=join_request.pk)
    if locked.status != JoinRequest.Status.PENDING:
        raise JoinRequestAlreadyDecided
    return locked


def _unique_slug(territory: Territory, name: str) -> str:
    return free_slug(name, Organisation.objects.filter(territory=territory), fallback="organizzazione", max_length=100)


@transaction.atomic(durable=True)
def approve_join_request(*, join_request: JoinRequest, actor: User) -> Organisation:
    """Create the organisation and its admin account; email the applicant how to sign in."""
    jr = _lock_pending(join_request)
    territory = jr.territory
    member = Organisation.objects.filter(territory=territory, tax_code=jr.tax_code).exclude(tax_code="").first()
    if member is not None:  # joined since the form checked (organisation_unique_tax_code would refuse it too)
        raise AlreadyMember(member)
    organisation = Organisation.objects.create(
        territory=territory,
        name=jr.name,
        slug=_unique_slug(territory, jr.name),
        kind=jr.kind,
        size_class=jr.size_class,
        network_role=jr.requested_role,
        vat_number=jr.vat_number,
        tax_code=jr.tax_code,
        address=jr.address,
        postal_code=jr.postal_code,
        city=jr.city,
        municipio=jr.municipio,
        website=jr.website,
        # The contact person's email and phone, and what they wrote to the coordinators, are not
        # published: the join form's notice promises they serve the application only. The admin adds
        # the organisation's public contacts and description to its page.
    )
    user = User.objects.filter(email__iexact=jr.email).first()
    is_new_user = user is None
    if is_new_user:
        first, _sep, last = jr.contact_name.partition(" ")
        user = User.objects.create_user(
            email=jr.email, first_name=first[:150], last_name=last[:150], language=jr.language
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    try:
        with transaction.atomic():
            Role.objects.create(user=user, kind=Role.Kind.ORG_ADMIN, territory=territory, organisation=organisation)
    except IntegrityError:
        pass  # Already admin of this organisation: nothing to add.
    jr.status = JoinRequest.Status.APPROVED
    jr.decided_at = timezone.now()
    jr.decided_by = actor
    jr.organisation = organisation
    jr.save(update_fields=["status", "decided_at", "decided_by", "organisation"])
    audit.record(actor=actor, action="join_request.approved", obj=jr, territory=territory,
                 changes={"organisation": organisation.pk, "admin": user.email, "new_account": is_new_user})
    audit.record(actor=actor, action="organisation.created", obj=organisation, territory=territory)
    send_templated_mail(
        to=jr.email,
        template="network/email/join_approved",
        context={"join_request": jr, "organisation": organisation, "territory": territory,
                 "is_new_user": is_new_user, "set_password_url": set_password_url(user),
                 "login_url": settings.SITE_URL + reverse("account_login")},
        language=jr.language,
    )
    return organisation


@transaction.atomic(durable=True)
def reject_join_request(*, join_request: JoinRequest, actor: User, reason: str) -> JoinRequest:
    jr = _lock_pending(join_request)
    jr.status = JoinRequest.Status.REJECTED
    jr.decided_at = timezone.now()
    jr.decided_by = actor
    jr.rejection_reason = reason
    jr.save(update_fields=["status", "decided_at", "decided_by", "rejection_reason"])
    audit.record(actor=actor, action="join_request.rejected", obj=jr, territory=jr.territory,
                 changes={"reason": reason})
    send_templated_mail(
        to=jr.email,
        template="network/email/join_rejected",
        context={"join_request": jr, "territory": jr.territory},
        language=jr.language,
    )
    return jr


@transaction.atomic(durable=True)
def purge_expired_join_requests(*, now=None) -> int:
    """Delete rejected applications, and the contact details of approved ones, past retention.

    An approved application lives on as the organisation's profile; only the person's details on
    the application itself are erased. Returns how many applications were purged.
    """
    cutoff = (now or timezone.now()) - JOIN_REQUEST_RETENTION
    expired = JoinRequest.objects.select_for_update().filter(decided_at__lt=cutoff).exclude(contact_name="")
    count = 0
    for jr in expired:
        audit.record(actor="sistema", action="join_request.purged", obj=jr, territory=jr.territory)
        if jr.status == JoinRequest.Status.REJECTED:
            jr.delete()
        else:
            jr.contact_name = ""
            jr.email = "cancellato@invalid"
            jr.phone = ""
            jr.motivation = ""
            jr.save(update_fields=["contact_name", "email", "phone", "motivation"])
        count += 1
    return count


@transaction.atomic(durable=True)
def update_organisation_profile(*, organisation: Organisation, data: dict[str, Any], actor: User) -> Organisation:
    """Save the public profile; the audit row lists each changed field with its old and new value."""
    locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
    changes = {}
    for field, value in data.items():
        old = getattr(locked, field)
        if field == "logo":
            # The form gives False to clear the logo, an upload to replace it, the current file otherwise.
            if value is False or isinstance(value, UploadedFile):
                changes[field] = [old.name if old else "", value.name if value else ""]
                setattr(locked, field, value or None)
            continue
        if old != value:
            changes[field] = [audit.plain(old), audit.plain(value)]
            setattr(locked, field, value)
    if changes:
        locked.save()
        # Leaving the network and coming back are what the log is read for: their own names.
        action = {(True, False): "organisation.left_network", (False, True): "organisation.readmitted"}.get(
            tuple(changes["is_active"]) if "is_active" in changes else None, "organisation.profile_updated")
        audit.record(actor=actor, action=action, obj=locked, territory=locked.territory, changes=changes)
    return locked


# --- news ---------------------------------------------------------------------------------------------

ARTICLE_FIELDS = ("title", "summary", "body", "title_en", "summary_en", "body_en")
# Path segments under /<territory>/notizie/ that are pages, not articles.
RESERVED_ARTICLE_SLUGS = frozenset({"pdf"})


class ArticleEditedMeanwhile(Exception):
    """Someone saved the article after the editor's form was drawn; nothing was saved."""

    def __init__(self, current_version: str):
        super().__init__(current_version)
        self.current_version = current_version


class ArticleIsPublished(Exception):
    """Only a draft can be deleted: someone published this one."""


def article_version(article: Article) -> str:
    """What the editor's form carries to notice a save in between: the row's last change, to the microsecond."""
    return article.updated_at.isoformat() if article.updated_at else ""


KEEP = object()  # save_article(published_at=KEEP): the publication stays as it is


@transaction.atomic(durable=True)
def save_article(*, territory: Territory, article: Article | None, data: dict[str, Any], actor: User,
                 published_at=KEEP, version: str | None = None) -> Article:
    """Create an article (`article` None) or change it; `published_at` a moment publishes it then (now or
    later: the public pages show it from that moment), None takes it back to a draft.

    The slug comes from the first title and stays: links to a published article must keep working.
    `version` is article_version() as the editor's form was drawn: a save in between refuses this one.
    """
    if article is None:
        article = Article(territory=territory, author=actor, **{field: data[field] for field in ARTICLE_FIELDS})
        for attempt in range(3):
            article.slug = free_slug(data["title"], Article.objects.filter(territory=territory), fallback="notizia",
                                     max_length=120, reserved=RESERVED_ARTICLE_SLUGS)
            try:
                with transaction.atomic():  # two coordinators may take the same title's slug at once
                    article.save()
                break
            except IntegrityError:
                if attempt == 2:
                    raise
        audit.record(actor=actor, action="article.created", obj=article, territory=territory)
        locked = article
    else:
        locked = Article.objects.select_for_update().get(pk=article.pk, territory=territory)
        if version is not None and version != article_version(locked):
            raise ArticleEditedMeanwhile(article_version(locked))
        # The titles with their old and new value; of a long text only that it changed.
        changes = {
            field: [getattr(locked, field), data[field]] if field.startswith("title") else True
            for field in ARTICLE_FIELDS if getattr(locked, field) != data[field]
        }
        if changes:
            for field in changes:
                setattr(locked, field, data[field])
            locked.save()
            audit.record(actor=actor, action="article.updated", obj=locked, territory=territory, changes=changes)
    if published_at is not KEEP and published_at != locked.published_at:
        old, locked.published_at = locked.published_at, published_at
        locked.save(update_fields=["published_at", "updated_at"])
        audit.record(
            actor=actor, action="article.unpublished" if published_at is None else "article.published", obj=locked,
            territory=territory, changes={"published_at": [old.isoformat() if old else None,
                                                           published_at.isoformat() if published_at else None]},
        )
    return locked


@transaction.atomic(durable=True)
def delete_article(*, article: Article, actor: User) -> None:
    """Delete a draft. A published article is taken back instead: people may have its link."""
    locked = Article.objects.select_for_update().get(pk=article.pk)
    if locked.published_at is not None:
        raise ArticleIsPublished(locked.title)
    audit.record(actor=actor, action="article.deleted", obj=locked, territory=locked.territory,
                 changes={"title": locked.title})
    locked.delete()
