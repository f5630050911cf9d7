"""From simulated phone photos through the API, Kafka and a worker to a TTF that maps all 11,172 syllables."""

from __future__ import annotations

import io
import time

import pytest
from fontTools.ttLib import TTFont

from tests.e2e.conftest import Service
from tests.simulator import simulate_photo

pytestmark = [pytest.mark.mysql, pytest.mark.kafka, pytest.mark.slow]
SYLLABLES = range(0xAC00, 0xD7A4)


def test_photos_to_installable_font(service: Service) -> None:
    client = service.client
    created = client.post("/api/fonts", json={"name": "끝까지 시험"}).json()
    font_id, auth = created["id"], {"Authorization": f"Bearer {created['token']}"}
    photos = [
        ("photos", (f"page{page}.jpg", simulate_photo(page, seed=70 + page)[0], "image/jpeg"))
        for page in (1, 2, 3)
    ]
    uploaded = client.post(f"/api/fonts/{font_id}/pages", headers=auth, files=photos)
    assert uploaded.status_code == 200, uploaded.text

    submitted = client.post(f"/api/fonts/{font_id}/submit", headers=auth)
    assert submitted.status_code == 202, submitted.text

    started = time.monotonic()
    stages_seen: list[str] = []
    status = {}
    while time.monotonic() - started < 1800:
        status = client.get(f"/api/fonts/{font_id}", headers=auth).json()
        job = status["job"]
        if job["stage"] and job["stage"] not in stages_seen:
            stages_seen.append(job["stage"])
        if job["state"] in ("succeeded", "failed"):
            break
        time.sleep(1.0)
    job = status["job"]
    assert job["state"] == "succeeded", job
    elapsed = time.monotonic() - started
    print(f"\nbuild took {elapsed:.0f} s; stages seen {stages_seen}; timings {job['stage_timings']}")
    assert set(job["stage_timings"]) >= {"finetune", "generate", "trace", "package"}
    assert job["progress"] == 100.0

    ttf = client.get(status["downloads"]["ttf"], headers=auth)
    assert ttf.status_code == 200
    font = TTFont(io.BytesIO(ttf.content))
    cmap = font.getBestCmap()
    assert all(cp in cmap for cp in SYLLABLES), "the font misses Hangul syllables"
    woff2 = client.get(status["downloads"]["woff2"], headers=auth)
    assert woff2.status_code == 200 and woff2.content[:4] == b"wOF2"
    preview = client.get(status["downloads"]["preview"], headers=auth)
    assert preview.status_code == 200 and preview.content[:8] == b"\x89PNG\r\n\x1a\n"
