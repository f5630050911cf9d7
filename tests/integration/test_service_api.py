"""The HTTP API on MariaDB with real extraction of simulated photos: the happy path and every refusal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from services.api.app import create_app
from services.api.template import template_index
from services.config import Settings
from services.db import jobs
from services.db.session import Database, utcnow
from services.storage import LocalArtifactStore, result_key, result_prefix
from tests.simulator import simulate

pytestmark = pytest.mark.mysql


def create(client: TestClient, name: str = "내 손글씨") -> tuple[str, dict[str, str]]:
    response = client.post("/api/fonts", json={"name": name})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], {"Authorization": f"Bearer {body['token']}"}


def upload(client: TestClient, font_id: str, auth: dict[str, str], *photos: tuple[str, bytes]):  # type: ignore[no-untyped-def]
    files = [("photos", (name, data, "image/jpeg")) for name, data in photos]
    return client.post(f"/api/fonts/{font_id}/pages", headers=auth, files=files)


def stored_files(store: LocalArtifactStore, font_id: str) -> list[str]:
    root = store.root / "fonts" / font_id
    return sorted(str(p.relative_to(store.root)) for p in root.rglob("*") if p.is_file())


def test_create_upload_submit_status_download_delete(
    client: TestClient, photos: dict[int, bytes], db: Database, store: LocalArtifactStore
) -> None:
    font_id, auth = create(client)
    response = upload(client, font_id, auth, ("page1.jpg", photos[1]), ("page2.jpg", photos[2]))
    assert response.status_code == 200, response.text
    reports = {p["page"]: p for p in response.json()["pages"]}
    assert set(reports) == {1, 2}
    for report in reports.values():
        assert report["cells_total"] == 100
        assert report["cells_ok"] + len(report["to_rewrite"]) == 100
        sheet = client.get(report["sheet_url"], headers=auth)
        assert sheet.status_code == 200 and sheet.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(sheet.content)).width > 500

    status = client.get(f"/api/fonts/{font_id}", headers=auth).json()
    ok_hangul = reports[1]["cells_ok"] + reports[2]["cells_ok"]
    assert status["glyphs"]["hangul_ok"] == ok_hangul and status["glyphs"]["hangul_required"] == 200
    assert [p["page"] for p in status["pages"]] == [1, 2] and status["job"] is None
    assert status["ready_to_submit"] == (ok_hangul == 200)

    submitted = client.post(f"/api/fonts/{font_id}/submit", headers=auth)
    if ok_hangul < 200:  # the extractor refused a cell of the simulated writing: the 409 must name it
        assert submitted.status_code == 409
        pytest.skip(
            "the simulated photos were not fully readable; see test_submit_lists_exactly_the_missing_cells"
        )
    assert submitted.status_code == 202, submitted.text
    job = submitted.json()["job"]
    assert submitted.json()["created"] and job["state"] == "queued"
    again = client.post(f"/api/fonts/{font_id}/submit", headers=auth).json()
    assert again["job"]["id"] == job["id"] and not again["created"]

    assert client.get(f"/api/fonts/{font_id}/font.ttf", headers=auth).status_code == 404
    # Let a "worker" finish the job through the same transitions the real one uses.
    with db.session() as session:
        assert jobs.claim_job(session, job["id"], "test-worker", 60, 3, utcnow())
        prefix = result_prefix(font_id, job["id"])
        for kind in ("ttf", "woff2", "preview"):
            store.put(result_key(prefix, kind), f"{kind} bytes".encode())
        assert jobs.finish_job(session, job["id"], "test-worker", prefix, {"finetune": 1.0}, utcnow())
    status = client.get(f"/api/fonts/{font_id}", headers=auth).json()
    assert status["job"]["state"] == "succeeded" and status["job"]["progress"] == 100.0
    ttf = client.get(status["downloads"]["ttf"], headers=auth)
    assert (
        ttf.status_code == 200 and ttf.content == b"ttf bytes" and ttf.headers["content-type"] == "font/ttf"
    )

    assert client.delete(f"/api/fonts/{font_id}", headers=auth).status_code == 204
    assert stored_files(store, font_id) == []
    assert client.get(f"/api/fonts/{font_id}", headers=auth).status_code == 404


def test_submit_lists_exactly_the_missing_cells(client: TestClient) -> None:
    shot = simulate(1, seed=5, empty=0.05)
    font_id, auth = create(client)
    report = upload(client, font_id, auth, ("p1.jpg", shot.jpeg)).json()["pages"][0]
    rewrite = {c["codepoint"]: c["status"] for c in report["to_rewrite"]}
    empty_on_paper = {cp for cp, status in shot.expected.items() if status == "empty"}
    assert empty_on_paper and empty_on_paper <= set(rewrite)

    response = client.post(f"/api/fonts/{font_id}/submit", headers=auth)
    assert response.status_code == 409
    body = response.json()
    page2 = [c for c in template_index().script("hangul") if c.page == 2]
    expected = {**rewrite, **{c.codepoint: "not uploaded" for c in page2}}
    assert {c["codepoint"]: c["status"] for c in body["missing"]} == expected
    assert len(body["missing"]) == len(expected) and str(len(expected)) in body["detail"]
    first = body["missing"][0]
    assert (
        set(first) == {"char", "codepoint", "page", "status", "reason"}
        and ord(first["char"]) == first["codepoint"]
    )
    assert client.get(f"/api/fonts/{font_id}", headers=auth).json()["job"] is None


def test_reupload_replaces_the_page_and_its_files(
    client: TestClient, photos: dict[int, bytes], store: LocalArtifactStore
) -> None:
    font_id, auth = create(client)
    assert upload(client, font_id, auth, ("a.jpg", photos[3])).status_code == 200
    before = stored_files(store, font_id)
    assert upload(client, font_id, auth, ("b.jpg", photos[3])).status_code == 200
    after = stored_files(store, font_id)
    assert len(before) == len(after) == 2 and not set(before) & set(after)
    status = client.get(f"/api/fonts/{font_id}", headers=auth).json()
    assert [(p["page"], p["photo"]) for p in status["pages"]] == [(3, "b.jpg")]
    assert status["glyphs"]["latin_ok"] == status["pages"][0]["cells_ok"] > 80


def test_auth_refusals_reveal_nothing(client: TestClient) -> None:
    font_id, auth = create(client)
    no_token = client.get(f"/api/fonts/{font_id}")
    assert no_token.status_code == 401 and "token" in no_token.json()["detail"]
    wrong = client.get(f"/api/fonts/{font_id}", headers={"Authorization": "Bearer nope"})
    unknown = client.get("/api/fonts/doesNotExist123", headers=auth)
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json() == unknown.json() == {"detail": "no font with this id and token"}
    _, other_auth = create(client, "someone else")
    assert client.delete(f"/api/fonts/{font_id}", headers=other_auth).status_code == 404
    assert client.get(f"/api/fonts/{font_id}", headers=auth).status_code == 200


@pytest.mark.parametrize(
    ("name", "data", "status", "words"),
    [
        ("x.gif", b"GIF89a" + b"\0" * 100, 415, "only JPEG and PNG"),
        ("x.heic", b"\0\0\0\x18ftypheic" + b"\0" * 100, 422, "HEIC"),
        ("x.jpg", b"", 422, "empty"),
        ("x.jpg", b"\xff\xd8\xff" + b"\0" * 100, 422, "not a readable image"),
    ],
)
def test_bad_files_are_refused_with_a_reason(
    client: TestClient, name: str, data: bytes, status: int, words: str
) -> None:
    font_id, auth = create(client)
    response = upload(client, font_id, auth, (name, data))
    assert response.status_code == status and words in response.json()["detail"]
    assert name in response.json()["detail"]


def test_a_photo_without_a_template_page_stores_nothing(
    client: TestClient, photos: dict[int, bytes], store: LocalArtifactStore
) -> None:
    font_id, auth = create(client)
    blank = io.BytesIO()
    Image.new("RGB", (1600, 1200), (200, 190, 180)).save(blank, "JPEG")
    response = upload(client, font_id, auth, ("good.jpg", photos[1]), ("wall.jpg", blank.getvalue()))
    assert response.status_code == 422 and response.json()["detail"].startswith("wall.jpg: ")
    assert stored_files(store, font_id) == []
    assert client.get(f"/api/fonts/{font_id}", headers=auth).json()["pages"] == []


def test_size_limits(
    settings: Settings, db: Database, store: LocalArtifactStore, photos: dict[int, bytes]
) -> None:
    small = settings.model_copy(
        update={"max_upload_bytes": 200_000, "max_photos_per_upload": 2, "max_upload_pixels": 1_000_000}
    )
    with TestClient(create_app(small, db=db, store=store, relay=False)) as client:
        font_id, auth = create(client)
        big = upload(client, font_id, auth, ("big.jpg", b"\xff\xd8\xff" + b"\0" * 300_000))
        assert big.status_code == 413 and big.json()["detail"] == "big.jpg is larger than 195 kB"
        many = upload(client, font_id, auth, *[(f"{i}.jpg", photos[1][:1000]) for i in range(3)])
        assert many.status_code == 413 and "at most 2 photos" in many.json()["detail"]
        # Past the whole-request limit (2 photos x 200 kB + 1 MB): refused before the form is parsed...
        too_much = [(f"{i}.jpg", b"\xff\xd8\xff" + b"\0" * 800_000) for i in range(2)]
        total = upload(client, font_id, auth, *too_much)
        assert total.status_code == 413 and "in all" in total.json()["detail"]
        # ...and while streaming, when the client does not say how much is coming.
        boundary = "geulssi-test-boundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; filename="s.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()

        def chunks():  # type: ignore[no-untyped-def]
            yield head
            for _ in range(40):
                yield b"\0" * 65_536
            yield f"\r\n--{boundary}--\r\n".encode()

        streamed = client.post(
            f"/api/fonts/{font_id}/pages",
            headers={**auth, "Content-Type": f"multipart/form-data; boundary={boundary}"},
            content=chunks(),
        )
        assert streamed.status_code == 413 and "in all" in streamed.json()["detail"]
        wide = io.BytesIO()
        Image.new("L", (1200, 1000), 255).save(wide, "PNG")  # 1.2 million pixels in a few kB
        pixels = upload(client, font_id, auth, ("huge.png", wide.getvalue()))
        assert pixels.status_code == 413 and "million pixels" in pixels.json()["detail"]
        assert stored_files(store, font_id) == []


def test_oversized_json_is_refused(client: TestClient) -> None:
    response = client.post(
        "/api/fonts",
        content=b'{"name": "' + b"x" * 100_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert (
        response.status_code == 413 and response.json()["detail"] == "the request body is larger than 64 kB"
    )
    chunked = client.post(
        "/api/fonts",
        content=iter([b'{"name": "', b"x" * 100_000, b'"}']),
        headers={"Content-Type": "application/json"},
    )
    assert chunked.status_code == 413 and "64 kB" in chunked.json()["detail"]


def test_bad_json_and_names(client: TestClient) -> None:
    for body in ({"name": ""}, {"name": "x" * 64}, {}, {"name": "tab\there"}):
        response = client.post("/api/fonts", json=body)
        assert response.status_code == 422 and isinstance(response.json()["detail"], str), body


def test_template_pdf_is_served_and_cached(client: TestClient, store: LocalArtifactStore) -> None:
    first = client.get("/api/template.pdf")
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    assert list(Path(store.root, "template").rglob("template.pdf"))
    assert client.get("/api/template.pdf").content == first.content


def test_database_outage_answers_503(tmp_path: Path) -> None:
    settings = Settings(database_url="mysql+pymysql://root@127.0.0.1:1/nowhere", storage_dir=tmp_path)
    with TestClient(create_app(settings, relay=False)) as client:
        response = client.post("/api/fonts", json={"name": "x"})
        assert response.status_code == 503 and "database is unavailable" in response.json()["detail"]
        assert client.get("/api/health").status_code == 503


def test_openapi_documents_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/api/fonts/{font_id}/pages" in schema["paths"]
    assert schema["components"]["schemas"]["FontStatus"]["examples"]
    assert client.get("/docs").status_code == 200
