"""The inventory campaign's camera scanner on a browser without BarcodeDetector (as Safari
on an iPhone): the page loads the vendored QR decoder from the app, reads the label held in
front of the camera (Chromium's fake camera playing a picture of a real label's code) and
records the item in the campaign. Every page is checked with axe-core."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, Playwright, expect
from sqlalchemy import select

from inventory.helpdesk.models import CampaignScan, InventoryCampaign
from inventory.labels import tokens
from inventory.labels.render import Label, render_png
from tests.conftest import PASSWORD
from tests.e2e.axe import check_a11y
from tests.e2e.conftest import ACTION_TIMEOUT_MS, CHROMIUM, CHROMIUM_ARGS
from tests.factories import build_world

# As Safari on iOS, which has no BarcodeDetector: the scanner must not rely on it.
NO_BARCODE_DETECTOR = "delete window.BarcodeDetector; delete Window.prototype.BarcodeDetector;"
DECODER = "/static/vendor/zxing-library/zxing.min.js"


@pytest.fixture(autouse=True)
def _quick_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Accounts are not what these tests are about: hash their passwords cheaply."""
    from werkzeug.security import generate_password_hash

    monkeypatch.setattr(
        "inventory.auth.services.generate_password_hash",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1000"),
    )


def write_y4m(picture: Image.Image, path: Path, size: tuple[int, int] = (640, 480)) -> None:
    """One frame of a camera video (YUV 4:2:0, full range), the picture centred on white;
    Chromium's fake camera plays it in a loop."""
    frame = Image.new("L", size, 255)
    side = min(size) - 80
    code = picture.convert("L").resize((side, side), Image.Resampling.NEAREST)
    frame.paste(code, ((size[0] - side) // 2, (size[1] - side) // 2))
    chroma = bytes([128]) * ((size[0] // 2) * (size[1] // 2))
    header = f"YUV4MPEG2 W{size[0]} H{size[1]} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"FRAME\n" + frame.tobytes() + chroma + chroma)


@pytest.fixture
def camera_browser(playwright: Playwright, tmp_path: Path) -> Iterator[Callable[..., Browser]]:
    """A Chromium whose camera films the picture given (permission granted, as a person
    who taps "Allow")."""
    launched: list[Browser] = []

    def launch(picture: Image.Image) -> Browser:
        video = tmp_path / "camera.y4m"
        write_y4m(picture, video)
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        launched.append(browser)
        return browser

    yield launch
    for browser in launched:
        browser.close()


def test_the_camera_reads_a_label_without_barcode_detector(
    registry: dict[str, Any],
    db_session: Any,
    make_user: Callable[..., str],
    live_server: str,
    camera_browser: Callable[..., Browser],
    translate: Callable[..., str],
) -> None:
    world = build_world(db_session)
    ecole, room, screen = world["ecole"], world["rooms"][0], world["screen"]
    # The label as printed: the QR code of the item's scan address on this server.
    url = tokens.scan_url(live_server, world["token"])
    picture = Image.open(io.BytesIO(render_png(Label(tokens.qr_matrix(url), ""))))
    email = make_user("technicien", [("collectivite", world["coll"])])

    browser = camera_browser(picture)
    context = browser.new_context(
        base_url=live_server, locale="fr-FR", timezone_id="Europe/Paris", permissions=["camera"]
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.add_init_script(NO_BARCODE_DETECTOR)
    page: Page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    page.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    decoder_requests: list[str] = []
    page.on("request", lambda r: decoder_requests.append(r.url) if DECODER in r.url else None)

    page.goto("/login")
    page.locator("main form[method=post] input[name=email]").fill(email)
    page.locator("main form[method=post] input[name=password]").fill(PASSWORD)
    page.locator("main form[method=post] button[type=submit]").click()
    expect(page).to_have_url(live_server + "/")

    page.goto(f"/inventaires/nouveau?ecole={ecole.id}")
    page.locator("main form[method=post] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/inventaires/\d+$"))
    page.locator("select[name=classroom]").select_option(str(room.id))
    page.locator('form[action$="/salle"] button[type=submit]').click()
    page.wait_for_url(re.compile(rf"salle={room.id}"))
    check_a11y(page)
    assert page.evaluate("'BarcodeDetector' in window") is False

    toggle = page.locator("[data-scanner-toggle]")
    expect(toggle).to_be_visible()
    toggle.click()
    # The camera is on (the button now stops it), its picture shown.
    expect(toggle).to_have_text(translate("Stop the camera"))
    expect(page.locator("video.scanner-video")).to_be_visible()
    # The decoder reads the label: the form is sent and the item listed as scanned here.
    expect(page.locator("#scan table")).to_contain_text(screen.tag, timeout=30_000)
    # Scanning resumes on the new page, and the label still in view is not sent again.
    again = translate("This label is recorded: show the next one.")
    expect(page.locator("[data-scanner-status]")).to_have_text(again, timeout=20_000)
    check_a11y(page)
    expect(page.locator("#scan table tbody tr")).to_have_count(1)
    assert decoder_requests and all(r.startswith(live_server) for r in decoder_requests)
    assert not problems, problems

    campaign = db_session.scalar(select(InventoryCampaign).order_by(InventoryCampaign.id.desc()))
    db_session.expire_all()
    # (The room's visit is a row of its own, without an item.)
    scans = db_session.scalars(
        select(CampaignScan).filter_by(campaign_id=campaign.id).where(CampaignScan.raw != "")
    ).all()
    assert [(s.asset_id, s.classroom_id, s.raw) for s in scans] == [(screen.id, room.id, url)]
    context.close()
