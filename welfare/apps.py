from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WelfareConfig(AppConfig):
    name = "welfare"
    verbose_name = _("Welfare in rete")

    def ready(self) -> None:
        from . import signals  # noqa: F401
