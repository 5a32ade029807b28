"""The camera scanner of static/js/check-in.js, in a real browser with a fake camera.

Chromium is given a video file as its camera (--use-file-for-fake-video-capture): a still of a QR
code held in front of it. Each test clicks "Leggi il QR con la fotocamera" and checks that jsQR
decoded the code from the camera's frames and that the form was submitted with it, on the welfare
provider's till (vouchers, a plain form post) and at the events' check-in (tickets, an htmx post).
"""

import io

import pytest
import segno
from PIL import Image

from .helpers import CHROMIUM_ARGS, VIEWPORT, block_outside, chromium_path, sign_in

pytestmark = pytest.mark.browser

WORKER = "lavoratore@officine-lambrate.example.org"
PROVIDER_STAFF = "fornitore@equa.example.org"
ORG_ADMIN = "admin@officine-lambrate.example.org"
TILL = "/milano/organizzazioni/equa/fornitore/"

WIDTH, HEIGHT = 640, 480
FRAMES = 5  # identical frames: Chromium plays the file in a loop


def qr_png(text: str) -> bytes:
    """A standard QR code (never a Micro QR, which jsQR cannot read) with the 4-module quiet zone."""
    buffer = io.BytesIO()
    segno.make_qr(text, error="m").save(buffer, kind="png", scale=1, border=4)
    return buffer.getvalue()


def write_camera_video(path, png: bytes) -> None:
    """A Y4M video (YUV 4:2:0) of the picture `png`, centred on white and as large as fits, in grey."""
    picture = Image.open(io.BytesIO(png)).convert("L")
    scale = (min(WIDTH, HEIGHT) - 40) // max(picture.size)
    picture = picture.resize((picture.width * scale, picture.height * scale), Image.Resampling.NEAREST)
    frame = Image.new("L", (WIDTH, HEIGHT), 255)
    frame.paste(picture, ((WIDTH - picture.width) // 2, (HEIGHT - picture.height) // 2))
    luma = bytes(16 + value * 219 // 255 for value in frame.tobytes())  # BT.601 video range
    chroma = bytes([128]) * (WIDTH // 2 * HEIGHT // 2)  # no colour
    with open(path, "wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(FRAMES):
            video.write(b"FRAME\n" + luma + chroma + chroma)


@pytest.fixture
def camera_page(browser, live_server, tmp_path):
    """camera_page(png): a page whose camera films the picture `png`, offline but for the live server.

    The camera's file is fixed when Chromium starts, so each call launches a browser of its own.
    """
    browsers = []

    def make(png: bytes):
        video = tmp_path / f"camera-{len(browsers)}.y4m"
        write_camera_video(video, png)
        camera_browser = browser.browser_type.launch(
            executable_path=chromium_path(),
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",  # allow the camera without asking
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        browsers.append(camera_browser)
        context = camera_browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="it-IT")
        context.set_default_timeout(15_000)
        context.grant_permissions(["camera"])
        page = context.new_page()
        block_outside(page, live_server.url)
        return page

    yield make
    for camera_browser in browsers:
        camera_browser.close()


@pytest.fixture
def check_in(demo_events):
    """The upcoming demo event's check-in page, where Officine Lambrate's org admin may admit people.

    The demo's events are organised by the Comune and Piano C: Officine Lambrate joins this one's
    organisers for Perm.CHECK_IN_ATTENDEES (the coordinator always has it, but signs in with TOTP).
    """
    from network.models import Organisation

    event = demo_events.upcoming
    event.organisers.add(Organisation.objects.get(territory=event.territory, slug="officine-lambrate"))
    assert demo_events.registration.checked_in_at is None
    return f"/milano/eventi/{event.slug}/accoglienza/"


def test_the_provider_till_redeems_a_voucher_read_by_the_camera(demo, camera_page):
    """The worker's voucher, shown to the till's camera, is submitted and redeemed: the page says so."""
    from accounts.models import User
    from welfare import services
    from welfare.models import Order, Service, Worker

    worker = Worker.objects.get(user=User.objects.get(email=WORKER))
    service = Service.objects.get(slug="doposcuola-equa")
    order = services.place_order(worker=worker, service=service, key="qr-test", actor=None)
    assert order.status == Order.Status.ISSUED

    page = camera_page(qr_png(order.code))
    sign_in(page, PROVIDER_STAFF, TILL)
    with page.expect_navigation():  # the form is posted with the code read from the camera
        page.locator("#scan-button").click()
    assert "ora utilizzato" in page.locator("main [role='status']").inner_text()
    assert page.locator("input[name='code']").input_value() == ""  # redirected after the redemption
    order.refresh_from_db()
    assert order.status == Order.Status.REDEEMED
    assert order.redeemed_by.email == PROVIDER_STAFF


def test_the_check_in_admits_a_ticket_read_by_the_camera(demo_events, check_in, camera_page):
    """A confirmed ticket, shown to the check-in camera, is submitted (htmx) and the person admitted."""
    registration = demo_events.registration
    page = camera_page(qr_png(registration.ticket_code))
    sign_in(page, ORG_ADMIN, check_in)
    page.locator("#scan-button").click()
    welcome = page.locator("#check-in-result .alert-success")
    welcome.wait_for()
    assert "Ingresso registrato: Giulia Verdi" in welcome.inner_text()
    registration.refresh_from_db()
    assert registration.checked_in_at is not None
    assert registration.checked_in_by.email == ORG_ADMIN


def test_the_check_in_reads_the_ticket_qr_the_app_draws(demo_events, check_in, camera_page):
    """The ticket's QR as the app renders it (events.tickets.ticket_qr_png) is read by the scanner too."""
    from events.tickets import ticket_qr_png

    registration = demo_events.registration
    page = camera_page(ticket_qr_png(registration))
    sign_in(page, ORG_ADMIN, check_in)
    page.locator("#scan-button").click()
    page.locator("#check-in-result .alert-success").wait_for(timeout=5_000)
