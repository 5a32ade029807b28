from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import ApiToken, User
from core import audit


class Command(BaseCommand):
    help = "Create an API token for an existing user and print its key, which is shown only this once."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="API")

    def handle(self, *args, email, name, **options):
        user = User.objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No user with email {email}.")
        if len(name) > ApiToken._meta.get_field("name").max_length:
            raise CommandError("--name is too long (at most 100 characters).")
        if not user.is_active:
            raise CommandError(f"{user.email} is not active: a token of theirs would not work.")
        with transaction.atomic(durable=True):
            token, key = ApiToken.issue(user=user, name=name)
            audit.record(
                actor="system",
                action="api_token.created",
                obj=token,
                territory=None,
                changes={"user": user.email, "name": name},
            )
        self.stdout.write(key)
        self.stderr.write(f"Token {token} for {user.email}: store the key now, it cannot be shown again.")
