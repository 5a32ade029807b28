from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Role, User
from core.models import Municipio, Territory
from events import demo as events_demo
from network import demo
from network.models import Article, Organisation
from welfare import demo as welfare_demo

# A fixed TOTP secret for the demo coordinator, so the printed secret works in any authenticator app.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPMIREDEMO"


class Command(BaseCommand):
    help = "Load the Milan demo network (MIRE). Running it again changes nothing."

    def handle(self, *args, **options):
        with transaction.atomic():
            territory = self._load_network()
        # After the network, in its own transactions: the welfare services are durable transactions.
        welfare_demo.load(territory)
        self._print_logins()

    def _load_network(self):
        territory, _ = Territory.objects.get_or_create(slug=demo.TERRITORY["slug"], defaults=demo.TERRITORY)
        municipi = {}
        for number, name in demo.MUNICIPI:
            municipi[number], _ = Municipio.objects.get_or_create(
                territory=territory, number=number, defaults={"name": name}
            )
        members = [(member, demo.ALLIANCE_JOINED_ON) for member in demo.ALLIANCE]
        members += [(member, demo.DEMO_MEMBERS_JOINED_ON) for member in demo.DEMO_MEMBERS]
        for (name, slug, kind, role, extra), joined_on in members:
            fields = {**extra, "name": name, "kind": kind, "network_role": role, "joined_on": joined_on}
            if "municipio" in fields:
                fields["municipio"] = municipi[fields["municipio"]]
            Organisation.objects.get_or_create(territory=territory, slug=slug, defaults=fields)
        Article.objects.get_or_create(territory=territory, slug=demo.ARTICLE["slug"], defaults=demo.ARTICLE)
        events_demo.load(territory)

        self.stdout.write(self.style.SUCCESS(f"Rete dimostrativa: {territory.network_name}"))
        self.stdout.write(f"Accessi dimostrativi (password: {demo.DEMO_PASSWORD}):")
        for email, first, last, kind, org_slug in demo.PERSONAS:
            user, created = User.objects.get_or_create(email=email, defaults={"first_name": first, "last_name": last})
            if created:
                user.set_password(demo.DEMO_PASSWORD)
                user.save(update_fields=["password"])
                EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
            organisation = Organisation.objects.get(territory=territory, slug=org_slug) if org_slug else None
            Role.objects.get_or_create(user=user, kind=kind, territory=territory, organisation=organisation)
            if kind == Role.Kind.COORDINATOR and not Authenticator.objects.filter(
                user=user, type=Authenticator.Type.TOTP
            ).exists():
                TOTP.activate(user, DEMO_TOTP_SECRET)
            label = dict(Role.Kind.choices)[kind]
            self.stdout.write(f"  {label:<38} {email}")
        return territory

    def _print_logins(self):
        self.stdout.write(
            f"  Il coordinatore accede con un codice TOTP: aggiungi il segreto {DEMO_TOTP_SECRET} alla tua app "
            "di autenticazione, oppure usa `.venv/bin/python manage.py totp_code coordinatore@mire.example.org`."
        )
