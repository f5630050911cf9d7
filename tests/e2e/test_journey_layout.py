"""The web page at phone and desktop size (headless Chromium, no build): layout never wider than the screen,
each error at its control in Korean and English, page states kept across reloads, buttons that must not be
pressed are not."""

from __future__ import annotations

import functools
import io
from pathlib import Path

import numpy as np
import pytest
from fontTools.subset import Subsetter
from fontTools.ttLib import TTFont
from PIL import Image

from services.api.uploads import png_bytes
from services.db import jobs, operations, queries
from services.db.session import utcnow
from services.storage import result_key, result_prefix
from tests.e2e.conftest import LiveServer
from tests.e2e.journey_helpers import DESKTOP, PHONE, browser_page, error_next_to, no_sideways_scroll, shot
from tests.simulator import simulate_photo

pytestmark = pytest.mark.browser


@functools.cache
def simulated(page: int, seed: int) -> bytes:
    """A simulated phone photo, made once per test session (simulating takes seconds)."""
    return simulate_photo(page, seed=seed, size=(1600, 1200))[0]


def write_photo(tmp_path: Path, page: int, seed: int) -> Path:
    path = tmp_path / f"page{page}-{seed}.jpg"
    path.write_bytes(simulated(page, seed))
    return path


def not_a_template(tmp_path: Path) -> Path:
    path = tmp_path / "cat.png"
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (180, 150, 120)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_upload_errors_sit_at_their_control_and_states_survive_a_reload(
    live_server: LiveServer, tmp_path: Path, size: str
) -> None:
    phone = size == "phone"
    page1 = write_photo(tmp_path, 1, seed=3)
    with browser_page(PHONE if phone else DESKTOP, phone=phone) as page:
        page.goto(live_server.url + "/")
        no_sideways_scroll(page)
        # a name of spaces passes the browser's "required" but not the server: the answer sits at the form
        page.fill("#font-name", "   ")
        page.click("#create-button")
        error_next_to(page, "create-error", "#create-button")
        page.fill("#font-name", "폰 시험")
        page.click("#create-button")
        page.locator("#project-id").wait_for(state="visible")
        assert page.locator("#submit").is_disabled()  # 0 glyphs: nothing to build
        assert "200" in page.locator("#submit-hint").inner_text()
        # the camera is offered directly, one page at a time
        assert page.locator("#camera").get_attribute("capture") == "environment"
        assert page.locator("#camera").get_attribute("multiple") is None
        for card in (1, 2, 3):
            assert "아직 올리지 않았습니다" in page.locator(f"#page-card-{card}").inner_text()
        no_sideways_scroll(page)
        if phone:
            page.locator("#step-upload").scroll_into_view_if_needed()
            shot(page, "01-project-pages-not-uploaded-yet")

        # two photos of the same page: the error is under the upload buttons
        page.set_input_files("#photos", [str(page1), str(write_photo(tmp_path, 1, seed=4))])
        text = error_next_to(page, "upload-error", "#upload-controls")
        assert "같은 쪽" in text and "both show page 1" in text

        # one page through the camera input: its card shows what was read, the others stay "not uploaded"
        page.set_input_files("#camera", str(page1))
        page.locator("#page-card-1 img.sheet").wait_for(state="visible")
        card1 = page.locator("#page-card-1").inner_text()
        assert "/ 100칸 읽음" in card1
        assert "아직 올리지 않았습니다" in page.locator("#page-card-2").inner_text()
        no_sideways_scroll(page)

        # a photo that is no template, taken from page 2's card: the error is in that card, at its button
        page.locator("#page-card-2 input[capture]").set_input_files(str(not_a_template(tmp_path)))
        text = error_next_to(page, "page-error-2", "#page-card-2 .file-button")
        assert "템플릿" in text
        if phone:
            page.locator("#page-card-2").scroll_into_view_if_needed()
            shot(page, "02-upload-error-at-its-page")

        # the sheet zooms on a tap
        page.locator("#page-card-1 img.sheet").click(position={"x": 30, "y": 20})
        assert page.locator("#zoom").is_visible()
        assert "blob:" in page.locator("#zoom-view").evaluate("e => e.style.backgroundImage")
        if phone:
            shot(page, "03-sheet-zoomed")
        page.locator("#zoom").click()

        # a reload shows the same per-page state, read from the server
        page.reload()
        page.locator("#page-card-1 img.sheet").wait_for(state="visible")
        assert page.locator("#page-card-1").inner_text() == card1
        assert "아직 올리지 않았습니다" in page.locator("#page-card-3").inner_text()
        assert page.locator("#submit").is_disabled()
        no_sideways_scroll(page)


def test_submit_refused_shows_at_the_button_after_the_coverage_choice(
    live_server: LiveServer, tmp_path: Path
) -> None:
    """With all Hangul pages read, building is allowed; what the font will lack is shown first, and a refusal
    (intake paused by an operator) appears next to the build button, in both languages."""
    photos = [write_photo(tmp_path, 1, seed=11), write_photo(tmp_path, 2, seed=12)]
    with browser_page(PHONE, phone=True) as page:
        page.goto(live_server.url + "/")
        page.fill("#font-name", "다 썼어요")
        page.click("#create-button")
        page.locator("#project-id").wait_for(state="visible")
        page.set_input_files("#photos", [str(p) for p in photos])
        page.locator("#page-card-2 img.sheet").wait_for(state="visible")
        if page.locator("#submit").is_disabled():
            pytest.skip(
                "the simulated photos did not read all 200 cells: "
                + page.locator("#submit-hint").inner_text()
            )
        with live_server.db.session() as session:
            operations.set_intake_paused(session, True, "browser test", utcnow(), "maintenance")
        page.click("#submit")
        coverage = page.locator("#coverage")
        coverage.wait_for(state="visible")  # page 3 (Latin) is not uploaded: the font will lack those
        assert "Latin" in coverage.inner_text() or "A" in coverage.inner_text()
        no_sideways_scroll(page)
        shot(page, "04-what-the-font-will-lack")
        page.click("#coverage-go")
        text = error_next_to(page, "submit-error", "#submit")
        assert "멈췄습니다" in text and "paused" in text
        no_sideways_scroll(page)


def finished_font(server: LiveServer, name: str, *, keep: bool) -> tuple[str, str]:
    """A font whose build finished (a stock font stands in for the built one); returns (id, token).

    `keep`: the build kept what a fix needs (stand-in files: no worker runs here)."""
    source = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
    if not source.is_file():
        pytest.skip("fonts-nanum is not installed")
    with server.db.session() as session:
        font, token = queries.create_font(session, name)
        job, _ = jobs.submit_job(session, font.id, "jobs", utcnow())
        assert jobs.claim_job(session, job.id, "browser-test", 60, 3, utcnow())
        prefix = result_prefix(font.id, job.id)
        woff2 = io.BytesIO()
        subset = TTFont(source)
        subsetter = Subsetter()
        subsetter.populate(
            text="".join(chr(cp) for cp in range(0xAC00, 0xAC00 + 400)) + "다람쥐 헌 쳇바퀴에 타고파"
        )
        subsetter.subset(subset)
        subset.flavor = "woff2"
        subset.save(woff2)
        server.store.put(result_key(prefix, "ttf"), source.read_bytes())
        server.store.put(result_key(prefix, "woff2"), woff2.getvalue())
        server.store.put(result_key(prefix, "preview"), png_bytes(np.full((60, 200), 200, np.uint8)))
        if keep:
            server.store.put(f"{prefix}/writer.pt", b"stand-in")
            server.store.put(f"{prefix}/glyphs.zip", b"stand-in")
        assert jobs.finish_job(session, job.id, "browser-test", prefix, {"finetune": 61.0}, utcnow())
    return font.id, token


def test_the_finished_font_is_checked_marked_and_sent_for_redrawing(live_server: LiveServer) -> None:
    font_id, token = finished_font(live_server, "고칠 폰트", keep=True)
    with browser_page(PHONE, phone=True) as page:
        page.goto(f"{live_server.url}/#font={font_id}&token={token}")
        page.locator("#step-font").wait_for(state="visible")
        page.wait_for_function(
            "() => document.getElementById('sample').style.fontFamily.includes('geulssi-mine')"
        )
        # "type anything" comes first in the step, then the sheet of generated syllables to mark
        assert (
            page.locator("#step-font textarea, #step-font .syllables").first.get_attribute("id") == "sample"
        )
        cells = page.locator("#sheet-generated .syllable")
        assert cells.count() >= 20 and page.locator("#fix").is_disabled()  # nothing marked yet
        cells.nth(2).click()
        cells.nth(5).click()
        assert page.locator("#sheet-generated .syllable.marked").count() == 2
        assert page.locator("#fix").is_enabled()
        no_sideways_scroll(page)
        page.locator("#sheet-generated").scroll_into_view_if_needed()
        shot(page, "07-syllables-marked")
        # the rebuild asks first: a finished font is not rebuilt by one stray tap
        page.locator("#submit").evaluate("b => b.disabled = false")  # (no pages here: force it)
        page.click("#submit")
        assert page.locator("#confirm-rebuild").is_visible()
        page.click("#rebuild-no")
        assert page.locator("#confirm-rebuild").is_hidden()
        page.click("#fix")
        page.locator("#job-state").get_by_text("글자 고치기", exact=False).wait_for()
        assert "대기 중" in page.locator("#job-state").inner_text()  # queued: no worker runs in this test
        assert page.locator("#fix").is_disabled()
    with live_server.db.session() as session:
        job = jobs.latest_job(session, font_id)
        assert job is not None and job.kind == "repackage" and len(job.params["codepoints"]) == 2


def test_a_fix_that_cannot_be_made_says_why_at_the_redraw_button(live_server: LiveServer) -> None:
    font_id, token = finished_font(live_server, "옛 폰트", keep=False)
    with browser_page(DESKTOP, phone=False) as page:
        page.goto(f"{live_server.url}/#font={font_id}&token={token}")
        page.locator("#step-font").wait_for(state="visible")
        page.locator("#sheet-generated .syllable").first.click()
        assert page.locator("#fix").is_disabled()  # built before builds kept their files
        assert "build it again" in page.locator("#fix-status").inner_text()
        page.locator("#fix").evaluate("b => b.disabled = false")  # pressed anyway: the server says why
        page.click("#fix")
        text = error_next_to(page, "fix-error", "#fix", within=120)
        assert "새로 만들어" in text and "build it again" in text
        no_sideways_scroll(page)
