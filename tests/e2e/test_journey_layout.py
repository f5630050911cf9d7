"""The web page at phone and desktop size (headless Chromium, no build): layout never wider than the screen,
each error at its control in Korean and English, page states kept across reloads, buttons that must not be
pressed are not."""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any

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
from tests.simulator import simulate, simulate_photo

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

        # the pickers offer every format the server reads: HEIC photos and PDF scans too
        for picker in ("#photos", "#page-card-2 input:not([capture])"):
            accept = page.locator(picker).get_attribute("accept") or ""
            assert {"image/jpeg", "image/png", "image/heic", ".heic", "application/pdf"} <= set(
                accept.split(",")
            )
        page.set_input_files(
            "#photos", files=[{"name": "cat.gif", "mimeType": "image/gif", "buffer": b"GIF89a" + b"\0" * 64}]
        )
        text = error_next_to(page, "upload-error", "#upload-controls")
        assert "HEIC" in text and "PDF" in text and "받지 않습니다" not in text

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


def open_project_with_pages(page: Any, server: LiveServer, name: str, photos: list[Path]) -> None:
    """Create a project named `name` on the page and upload `photos` (pages 1 and 2) at once."""
    page.goto(server.url + "/")
    page.fill("#font-name", name)
    page.click("#create-button")
    page.locator("#project-id").wait_for(state="visible")
    page.set_input_files("#photos", [str(p) for p in photos])
    page.locator("#page-card-2 img.sheet").wait_for(state="visible")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_submit_refused_shows_at_the_button_after_the_coverage_choice(
    live_server: LiveServer, tmp_path: Path, size: str
) -> None:
    """With all Hangul pages read, building is allowed; what the font will lack is shown first, and a refusal
    (intake paused by an operator) appears next to the build button, in both languages."""
    photos = [write_photo(tmp_path, 1, seed=11), write_photo(tmp_path, 2, seed=12)]
    phone = size == "phone"
    with browser_page(PHONE if phone else DESKTOP, phone=phone) as page:
        open_project_with_pages(page, live_server, "다 썼어요", photos)
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
        if phone:
            shot(page, "04-what-the-font-will-lack")
        page.click("#coverage-go")
        text = error_next_to(page, "submit-error", "#submit")
        assert "멈췄습니다" in text and "paused" in text
        no_sideways_scroll(page)


def press_submit_anyway(page: Any) -> None:
    """Press "Start building" even where it is disabled (a refusal can still come: another device, a race),
    past the "what the font will lack" box when it shows."""
    page.locator("#submit").evaluate("b => b.disabled = false")
    page.click("#submit")
    page.wait_for_function(
        "() => !document.getElementById('coverage').hidden || !document.getElementById('submit-error').hidden"
    )
    if page.locator("#coverage-go").is_visible():
        page.click("#coverage-go")


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_refused_submit_asks_to_upload_pages_never_uploaded_and_to_rewrite_unusable_cells(
    live_server: LiveServer, tmp_path: Path, size: str
) -> None:
    empties = tmp_path / "page1-empties.jpg"
    empties.write_bytes(simulate(1, seed=5, empty=0.05, size=(1600, 1200)).jpeg)
    phone = size == "phone"
    with browser_page(PHONE if phone else DESKTOP, phone=phone) as page:
        page.goto(live_server.url + "/")
        page.fill("#font-name", "덜 썼어요")
        page.click("#create-button")
        page.locator("#project-id").wait_for(state="visible")
        # nothing uploaded yet: "upload pages 1 and 2", one line per page, no cell to write again
        press_submit_anyway(page)
        text = error_next_to(page, "submit-error", "#submit")
        assert "1, 2쪽 사진을 올려" in text and "upload pages 1, 2" in text
        assert "다시 써" not in text and "write" not in text
        assert page.locator("#submit-error .absent-pages li").count() == 2
        assert page.locator("#submit-error .cells li").count() == 0  # not 200 "not uploaded" chips
        no_sideways_scroll(page)

        # page 1 with empty cells: its card lists them, grouped by why
        page.set_input_files("#photos", str(empties))
        page.locator("#page-card-1 img.sheet").wait_for(state="visible")
        to_rewrite = page.locator("#page-card-1 .cells li").count()
        assert to_rewrite > 0 and "빈 칸" in page.locator("#page-card-1 .cell-groups").inner_text()
        no_sideways_scroll(page)
        page.locator("#page-card-1").evaluate("e => e.scrollIntoView({block: 'start'})")
        if phone:
            shot(page, "10-cells-to-rewrite")

        # refused again: upload page 2, and write page 1's unreadable cells again (those as chips)
        press_submit_anyway(page)
        text = error_next_to(page, "submit-error", "#submit")
        assert "2쪽 사진을 올려" in text and "upload page 2" in text
        assert (
            f"1쪽의 {to_rewrite}칸은 아직 쓸 수 없습니다" in text
            and f"write the {to_rewrite} unusable" in text
        )
        assert page.locator("#submit-error .absent-pages li").count() == 1
        assert page.locator("#submit-error .cells li").count() == to_rewrite
        no_sideways_scroll(page)
        page.locator("#step-build").evaluate("e => e.scrollIntoView({block: 'start'})")
        if phone:
            shot(page, "11-submit-refused-page-not-uploaded")
        page.locator("#submit-error .absent-pages a").click()  # the line leads to page 2's card
        page.wait_for_function(
            "() => document.getElementById('page-card-2').getBoundingClientRect().top < 200"
        )


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_wait_box_offers_the_continue_link_and_a_stopped_build_says_so_at_the_build_button(
    live_server: LiveServer, tmp_path: Path, size: str
) -> None:
    """Queued: the wait box has the continue link and its QR code. Cancelled, then failed: the message sits
    right below "Start building", in Korean and English, and the phone page never scrolls sideways."""
    photos = [write_photo(tmp_path, 1, seed=11), write_photo(tmp_path, 2, seed=12)]
    phone = size == "phone"
    with browser_page(PHONE if phone else DESKTOP, phone=phone) as page:
        open_project_with_pages(page, live_server, "기다려요", photos)
        font_id = page.locator("#project-id").inner_text()
        db = live_server.db
        with db.session() as session:  # another writer's build finished: the estimate is measured
            other, _ = queries.create_font(session, "먼저 만든 폰트")
            done, _ = jobs.submit_job(session, other.id, "jobs", utcnow())
            assert jobs.claim_job(session, done.id, "browser-test", 60, 3, utcnow())
            timings = {"finetune": 150.0, "generate": 60.0, "trace": 20.0, "normalize": 10.0, "package": 4.0}
            prefix = result_prefix(other.id, done.id)
            assert jobs.finish_job(session, done.id, "browser-test", prefix, timings, utcnow())
        with db.session() as session:  # queued; no worker runs in this test
            job, _ = jobs.submit_job(session, font_id, "jobs", utcnow())
        page.reload()
        away = page.locator("#job-away")
        away.wait_for(state="visible")
        wait_text = page.locator("#job-wait").inner_text()
        assert "최근 작업 시간으로 계산" in wait_text and "from recent builds' stage times" in wait_text
        assert "약 4분" in wait_text and "about 4 min" in wait_text  # 244 s of measured stages
        if phone:
            page.locator("#step-build").evaluate("e => e.scrollIntoView({block: 'start'})")
            shot(page, "05-waiting-with-estimate")
        link = page.locator("#away-link").input_value()
        assert f"#font={font_id}&token=" in link
        page.wait_for_function("() => document.getElementById('away-qr').naturalWidth > 50")
        qr = page.locator("#away-qr").bounding_box()
        box = away.bounding_box()
        assert qr is not None and box is not None and box["y"] <= qr["y"] <= box["y"] + box["height"]
        assert page.locator("#away-copy").is_visible()
        no_sideways_scroll(page)
        page.locator("#job").evaluate("e => e.scrollIntoView({block: 'start'})")
        if phone:
            shot(page, "13-waiting-continue-elsewhere")

        with db.session() as session:  # an operator cancels it: the page, polling, says so
            operations.cancel_job(session, job.id, "browser test", utcnow())
        text = error_next_to(page, "job-error", "#submit")
        assert "취소되었습니다" in text and "cancelled by an operator" in text and "Start building" in text
        assert away.is_hidden()
        no_sideways_scroll(page)

        with db.session() as session:  # built again, and this time the build fails for good
            job, _ = jobs.submit_job(session, font_id, "jobs", utcnow())
            assert jobs.claim_job(session, job.id, "browser-test", 60, 3, utcnow())
            assert jobs.record_progress(session, job.id, "browser-test", "generate", 0.4, {"finetune": 61.0})
            failed = jobs.fail_attempt(
                session,
                job.id,
                "browser-test",
                "the generator ran out of memory",
                retry_at=None,
                dead_letter_topic="dead",
                now=utcnow(),
            )
            assert failed == "failed"
        page.reload()
        text = error_next_to(page, "job-error", "#submit")
        assert "만들지 못했습니다" in text and "could not be built (the generator ran out of memory)" in text
        assert "실패" in page.locator("#job-state").inner_text()
        no_sideways_scroll(page)
        page.locator("#step-build").scroll_into_view_if_needed()
        if phone:
            shot(page, "12-build-failed")


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
        written, generated = (page.locator(f"#sheet-{k}").bounding_box() for k in ("written", "generated"))
        assert written is not None and generated is not None
        assert generated["y"] > written["y"] + written["height"]  # on a phone: one above the other
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
        written, generated = (page.locator(f"#sheet-{k}").bounding_box() for k in ("written", "generated"))
        assert written is not None and generated is not None  # on a wide screen: side by side
        assert written["y"] == generated["y"] and generated["x"] >= written["x"] + written["width"]
        page.locator("#sheet-generated .syllable").first.click()
        assert page.locator("#fix").is_disabled()  # built before builds kept their files
        assert "build it again" in page.locator("#fix-status").inner_text()
        page.locator("#fix").evaluate("b => b.disabled = false")  # pressed anyway: the server says why
        page.click("#fix")
        text = error_next_to(page, "fix-error", "#fix", within=120)
        assert "새로 만들어" in text and "build it again" in text
        no_sideways_scroll(page)
