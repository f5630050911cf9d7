"""The web page in headless Chromium against a live server: it opens a project and shows its pages."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import httpx
import numpy as np
import pytest
from fontTools.subset import Subsetter
from fontTools.ttLib import TTFont

from services.api.uploads import png_bytes
from services.db import jobs
from services.db.session import utcnow
from services.storage import result_key, result_prefix
from tests.e2e.conftest import CHROMIUM, LiveServer
from tests.simulator import simulate_photo

pytestmark = pytest.mark.browser


def chromium(tmp_path: Path, *args: str) -> str:
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    profile = tmp_path / "profile"
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=5000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_a_fresh_visit_offers_the_template_and_a_new_project(live_server: LiveServer, tmp_path: Path) -> None:
    dom = chromium(tmp_path, "--dump-dom", f"{live_server.url}/")
    assert 'id="template-link" href="/api/template.pdf"' in dom
    assert '<form id="create-form">' in dom  # shown: no project yet
    assert '<section id="step-upload" class="step" hidden="">' in dom


def test_an_opened_project_shows_its_page_report(live_server: LiveServer, tmp_path: Path) -> None:
    api = httpx.Client(base_url=live_server.url, timeout=60)
    created = api.post("/api/fonts", json={"name": "브라우저 시험"}).json()
    auth = {"Authorization": f"Bearer {created['token']}"}
    jpeg, _ = simulate_photo(1, seed=3, size=(1600, 1200))
    uploaded = api.post(
        f"/api/fonts/{created['id']}/pages",
        headers=auth,
        files=[("photos", ("page1.jpg", jpeg, "image/jpeg"))],
    )
    assert uploaded.status_code == 200, uploaded.text
    ok = uploaded.json()["pages"][0]["cells_ok"]

    page = f"{live_server.url}/#font={created['id']}&token={created['token']}"
    dom = chromium(tmp_path, "--dump-dom", page)
    assert f'<code id="project-id">{created["id"]}</code>' in dom
    assert "브라우저 시험" in dom
    assert f"한글 {ok} / 200" in dom
    assert f"{ok} / 100칸 읽음" in dom.split('id="page-card-1"', 1)[1].split('id="page-card-2"', 1)[0]
    assert "아직 올리지 않았습니다" in dom.split('id="page-card-2"', 1)[1]  # never uploaded, and says so
    assert 'alt="page 1 contact sheet" src="blob:' in dom  # the sheet was fetched with the token

    shot = tmp_path / "page.png"
    chromium(tmp_path, "--window-size=1100,1900", f"--screenshot={shot}", page)
    assert shot.stat().st_size > 20_000
    Path("/tmp/geulssi-web-page.png").write_bytes(shot.read_bytes())  # for a person to look at


def test_a_built_font_is_offered_and_previewed(live_server: LiveServer, tmp_path: Path) -> None:
    """A finished build (a stock font stands in for the built one) shows downloads and a live sample."""
    source = Path("/usr/share/fonts/truetype/nanum/NanumGothic.ttf")
    if not source.is_file():
        pytest.skip("fonts-nanum is not installed")
    api = httpx.Client(base_url=live_server.url, timeout=60)
    created = api.post("/api/fonts", json={"name": "완성"}).json()
    with live_server.db.session() as session:  # the transitions a worker makes, without the build
        font_id = created["id"]
        job, _ = jobs.submit_job(session, font_id, "jobs", utcnow())
        assert jobs.claim_job(session, job.id, "browser-test", 60, 3, utcnow())
        prefix = result_prefix(font_id, job.id)
        woff2 = io.BytesIO()
        subsetter = Subsetter()
        subsetter.populate(text="다람쥐 헌 쳇바퀴에 타고파 완성")
        font = TTFont(source)
        subsetter.subset(font)
        font.flavor = "woff2"
        font.save(woff2)
        live_server.store.put(result_key(prefix, "ttf"), source.read_bytes())
        live_server.store.put(result_key(prefix, "woff2"), woff2.getvalue())
        live_server.store.put(result_key(prefix, "preview"), png_bytes(np.full((60, 200), 200, np.uint8)))
        assert jobs.finish_job(session, job.id, "browser-test", prefix, {"finetune": 61.0}, utcnow())

    dom = chromium(tmp_path, "--dump-dom", f"{live_server.url}/#font={font_id}&token={created['token']}")
    assert '<section id="step-font" class="step">' in dom  # no longer hidden
    assert "완성 (done)" in dom and "100%" in dom
    message = dom.split('id="message"', 1)[1].split("</p>", 1)[0]
    assert "geulssi-mine" in dom, message  # the sample text is set in the downloaded font
    assert '<img id="preview" alt="미리 보기 preview" src="blob:' in dom
