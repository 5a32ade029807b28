from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworkConfig(AppConfig):
    name = "network"
    verbose_name = _("Rete e organizzazioni")

    def ready(self) -> None:
        from . import signals  # noqa: F401
