"""Uploads in the formats people have, through the real app on MariaDB: HEIC, a 1-page and a 3-page PDF and a
16-bit PNG each read as well as the same page sent as JPEG."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from services.extraction.photo import register_heif

pytestmark = pytest.mark.mysql


def _create(client: TestClient) -> tuple[str, dict[str, str]]:
    response = client.post("/api/fonts", json={"name": "formats"})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], {"Authorization": f"Bearer {body['token']}"}


def _upload(client: TestClient, name: str, data: bytes, mime: str) -> dict[int, dict[str, Any]]:
    """Upload one file to a fresh font; return its page reports by page number."""
    font_id, auth = _create(client)
    response = client.post(f"/api/fonts/{font_id}/pages", headers=auth,
                           files=[("photos", (name, data, mime))])
    assert response.status_code == 200, response.text
    return {p["page"]: p for p in response.json()["pages"]}


def _summary(report: dict[str, Any]) -> tuple[int, list[tuple[int, str]]]:
    return report["cells_ok"], sorted((c["codepoint"], c["status"]) for c in report["to_rewrite"])


def _rgb(jpeg: bytes) -> Image.Image:
    return Image.open(io.BytesIO(jpeg)).convert("RGB")


def _pdf(images: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=150.0)
    return buffer.getvalue()


def test_heic_and_16_bit_png_read_like_the_jpeg(client: TestClient, photos: dict[int, bytes]) -> None:
    jpeg = _upload(client, "page1.jpg", photos[1], "image/jpeg")[1]
    assert jpeg["cells_ok"] >= 95
    register_heif()
    heic = io.BytesIO()
    _rgb(photos[1]).save(heic, "HEIF", quality=95)
    from_heic = _upload(client, "IMG_0001.HEIC", heic.getvalue(), "image/heic")
    assert set(from_heic) == {1} and _summary(from_heic[1]) == _summary(jpeg)

    deep = np.asarray(Image.open(io.BytesIO(photos[1])).convert("L")).astype(np.uint16) * 257
    png = io.BytesIO()
    Image.fromarray(deep).save(png, "PNG")
    assert Image.open(io.BytesIO(png.getvalue())).mode == "I;16"
    from_png = _upload(client, "page1-16bit.png", png.getvalue(), "image/png")
    assert _summary(from_png[1]) == _summary(jpeg)


def test_pdf_scans_of_one_and_of_three_pages(client: TestClient, photos: dict[int, bytes]) -> None:
    jpegs = {n: _upload(client, f"page{n}.jpg", photos[n], "image/jpeg")[n] for n in (1, 2, 3)}
    single = _upload(client, "page2.pdf", _pdf([_rgb(photos[2])]), "application/pdf")
    assert set(single) == {2} and single[2]["cells_ok"] >= jpegs[2]["cells_ok"]
    every = _upload(client, "scan.pdf", _pdf([_rgb(photos[n]) for n in (1, 2, 3)]), "application/pdf")
    assert set(every) == {1, 2, 3}
    for n in (1, 2, 3):
        assert every[n]["photo"] == f"scan.pdf (page {n} of the PDF)"
        assert every[n]["cells_ok"] >= jpegs[n]["cells_ok"]
        assert every[n]["cells_total"] == jpegs[n]["cells_total"]
