"""The app's own settings, read from the environment as in production, with one change.

With DEBUG=false the manifest static storage needs `collectstatic`; the benchmark collects into
var/bench/static so it never writes the deployment's STATIC_ROOT while others work in the tree.
"""

from config.settings import *  # noqa: F403
from config.settings import BASE_DIR

STATIC_ROOT = BASE_DIR / "var" / "bench" / "static"
