"""Take docs/screenshot-home.png: the territory home page at 1280x900, as the README shows it.

Run it against a server that has the demo data, e.g.

    .venv/bin/python manage.py migrate && .venv/bin/python manage.py load_demo
    .venv/bin/python manage.py runserver 127.0.0.1:8000 &
    .venv/bin/python tests/browser/screenshot.py http://127.0.0.1:8000

Options: --path (default /milano/), --output (default docs/screenshot-home.png), --lang it|en.
Requests to any other host (map tiles) are blocked, as in the browser tests.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.browser.helpers import VIEWPORT, block_outside, chromium_path, launch_chromium  # noqa: E402


def take(base_url: str, path: str, output: Path, lang: str) -> Path:
    from playwright.sync_api import sync_playwright

    if not chromium_path():
        raise SystemExit("Chromium not found: apt-get install chromium, or set CHROMIUM to its path.")
    base_url = base_url.rstrip("/")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport=VIEWPORT, device_scale_factor=1, locale=f"{lang}-IT")
        # The language the site shows comes from its cookie (set by the header's language form).
        context.add_cookies([{"name": "django_language", "value": lang, "url": base_url}])
        page = context.new_page()
        block_outside(page, base_url)
        response = page.goto(base_url + path, wait_until="load")
        if response is None or not response.ok:
            raise SystemExit(f"{base_url + path} answered {response.status if response else 'nothing'}")
        page.evaluate("document.fonts.ready")
        output.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(output), full_page=False)
        browser.close()
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="address of a running MIRE server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--path", default="/milano/")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "screenshot-home.png")
    parser.add_argument("--lang", default="it", choices=["it", "en"])
    args = parser.parse_args()
    print(take(args.url, args.path, args.output, args.lang))


if __name__ == "__main__":
    main()
