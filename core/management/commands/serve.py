import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Development server plus the background task worker, stopped together."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport, **options):
        if "SITE_URL" not in os.environ:
            # The links in mail (written by the worker) and in calendar files lead back here, not to
            # the default port, where another copy of the site or nothing may answer.
            host_port = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
            os.environ["SITE_URL"] = settings.SITE_URL = f"http://{host_port}"
        worker = subprocess.Popen([sys.executable, "manage.py", "db_worker"])  # noqa: S603
        # Stopped with SIGTERM (kill, a process manager) as with Ctrl-C: through `finally`, worker included.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            worker.terminate()
            worker.wait(timeout=10)
