import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EmailUserManager(UserManager):
    use_in_migrations = True

    def _create_user(self, username, email, password, **extra_fields):  # type: ignore[override]
        email = self.normalize_email(email)
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **extra_fields):  # type: ignore[override]
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(None, email, password, **extra_fields)

    def create_superuser(self, email=None, password=None, **extra_fields):  # type: ignore[override]
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(None, email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in with an email address."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email"), unique=True)
    # What the platform writes to the person in (core.mail.recipient_language): the language they
    # last picked or signed in with; blank until then, which means the site's own.
    language = models.CharField(
        _("lingua delle comunicazioni"), max_length=8, choices=settings.LANGUAGES, blank=True
    )

    objects = EmailUserManager()

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]
        verbose_name = _("utente")
        verbose_name_plural = _("utenti")

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def remember_language(self, code: str) -> None:
        """Keep the language the person uses the site in, for the mail written to them later."""
        if code in dict(settings.LANGUAGES) and code != self.language:
            self.language = code
            User.objects.filter(pk=self.pk).update(language=code)


class Role(models.Model):
    """What a user is in a territory's network. A user may hold several roles."""

    class Kind(models.TextChoices):
        COORDINATOR = "coordinator", _("Coordinatore della rete")
        ORG_ADMIN = "org_admin", _("Amministratore dell'organizzazione")
        ORG_STAFF = "org_staff", _("Staff dell'organizzazione")
        WORKER = "worker", _("Lavoratore")
        PROVIDER_STAFF = "provider_staff", _("Staff del fornitore")
        HELPDESK = "helpdesk", _("Operatore dello sportello")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    kind = models.CharField(_("ruolo"), max_length=20, choices=Kind.choices)
    territory = models.ForeignKey("core.Territory", on_delete=models.CASCADE, related_name="roles")
    organisation = models.ForeignKey(
        "network.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="roles"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("ruolo")
        verbose_name_plural = _("ruoli")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "territory"],
                condition=models.Q(organisation__isnull=True),
                name="role_unique_in_territory",
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "organisation"],
                condition=models.Q(organisation__isnull=False),
                name="role_unique_in_organisation",
            ),
            # A coordinator acts for the whole territory; every other role acts for one organisation.
            models.CheckConstraint(
                condition=models.Q(kind="coordinator", organisation__isnull=True)
                | (~models.Q(kind="coordinator") & models.Q(organisation__isnull=False)),
                name="role_scope_matches_kind",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "kind"])]

    def __str__(self) -> str:
        where = self.organisation or self.territory
        return f"{self.user} — {self.get_kind_display()} ({where})"


class ApiTokenQuerySet(models.QuerySet):
    def active(self) -> "ApiTokenQuerySet":
        return self.filter(revoked_at__isnull=True, user__is_active=True)


class ApiToken(models.Model):
    """A bearer token for machine clients. Only its SHA-256 is stored; it carries its user's roles."""

    PREFIX = "mire_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("nome"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    hint = models.CharField(_("ultime cifre"), max_length=8, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revocato il"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("token API")
        verbose_name_plural = _("token API")

    def __str__(self) -> str:
        return f"{self.name} (…{self.hint})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user: User, name: str) -> tuple["ApiToken", str]:
        """Create a token and return it with its clear key, which is shown once and never stored."""
        key = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, key_hash=cls.hash_key(key), hint=key[-6:])
        return token, key

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])
