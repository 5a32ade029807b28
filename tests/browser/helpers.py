"""Helpers shared by the browser tests and tests/browser/screenshot.py (no pytest needed here)."""

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}


def chromium_path() -> str | None:
    """Debian's Chromium: Playwright cannot download its own browser build on our machines."""
    return os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)


def block_outside(page, base_url: str, blocked: list[str] | None = None) -> None:
    """Abort every request that does not go to base_url, e.g. OpenStreetMap's map tiles."""
    base_url = base_url.rstrip("/")

    def handle(route):
        url = route.request.url
        if url == base_url or url.startswith(base_url + "/"):
            route.continue_()
        else:
            if blocked is not None:
                blocked.append(url)
            route.abort()

    page.route("**/*", handle)


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page for WCAG 2.0/2.1 levels A and AA; return its violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return result["violations"]


def format_violations(violations: list[dict]) -> str:
    """One readable paragraph per violation: rule id, impact, help text, and the offending nodes."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} [{v.get('impact')}] {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:10]:
            target = " ".join(" > ".join(t) if isinstance(t, list) else t for t in node["target"])
            lines.append(f"    at {target}")
            summary = " ".join((node.get("failureSummary") or "").split())
            if summary:
                lines.append(f"       {summary[:400]}")
            lines.append(f"       {node['html'][:200]}")
        if len(v["nodes"]) > 10:
            lines.append(f"    ... and {len(v['nodes']) - 10} more")
    return "\n".join(lines)


def switch_language(page, code: str) -> None:
    """Use the language links in the header, as a visitor would, and wait for the page to come back."""
    with page.expect_navigation():
        page.locator(f".mire-lang a[lang='{code}']").click()
    page.wait_for_load_state("load")


def sign_in(page, email: str, next_url: str) -> None:
    """Sign a demo persona in through the login form (password network.demo.DEMO_PASSWORD) and land on next_url."""
    from network.demo import DEMO_PASSWORD

    page.goto(f"/account/login/?next={next_url}")
    page.fill("input[name='login']", email)
    page.fill("input[name='password']", DEMO_PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type='submit']").click()
    assert page.url.endswith(next_url), f"sign-in as {email} landed on {page.url}"
