"""A worker spends welfare credit in a real browser; the voucher page passes axe."""

import re

import pytest

from .helpers import sign_in

pytestmark = pytest.mark.browser

WORKER = "lavoratore@officine-lambrate.example.org"
SERVICE = "/milano/welfare/servizi/doposcuola-equa/"


def test_a_worker_buys_a_service_and_gets_a_voucher(demo, page, assert_accessible):
    sign_in(page, WORKER, SERVICE)
    buy = page.get_by_role("button", name=re.compile("Acquista per"))
    with page.expect_navigation():
        buy.click()
    assert "/welfare/voucher/" in page.url
    code = page.locator("main .h3").inner_text().strip()
    assert re.fullmatch(r"[2-9A-Z]{10}", code)
    assert page.locator("main svg").count() == 1  # the QR
    assert_accessible(page, f"voucher ({page.url})")
    page.goto("/welfare/il-mio-welfare/")
    assert "420,00" in page.locator("main").inner_text()  # 600,00 − 180,00
    assert_accessible(page, "my welfare")
