"""Bad inputs are refused with a 4xx and a sentence, and leave the database and the artifact store unchanged.

The corpus (CASES) is data: each case names the request, the status expected and words the answer must use.
A snapshot of every row of fonts/pages/glyphs/jobs/outbox and of every stored file (size, hash) is taken
before and after each request. Pages that look wrong but can be read (upside down, photographed twice) are
accepted: see the tests at the end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from services.api.app import create_app
from services.config import Settings
from services.db import migrate
from services.db.session import Database
from services.storage import LocalArtifactStore
from tests.integration.conftest import create_database, drop_database
from tests.reliability import corpus
from tests.simulator import simulate

pytestmark = pytest.mark.mysql
SNAPSHOT_TABLES = ("fonts", "pages", "glyphs", "jobs", "outbox")  # at least these; all tables are compared
# What a Python error leaks when it reaches a person unchanged.
SMELLS = ("Traceback", "<class", "object at 0x", "Error(", "b'", "\\x", "{'", "[{")


@dataclass
class Site:
    """The app over its own database, with font A (page 1 uploaded) and font B (nothing uploaded)."""

    client: TestClient
    db: Database
    store: LocalArtifactStore
    font_id: str
    auth: dict[str, str]
    other_id: str
    other_auth: dict[str, str]
    photos: dict[int, bytes]
    deleted: tuple[str, dict[str, str]] = ("", {})  # a font already deleted, with its token

    def create_font(self, name: str) -> tuple[str, dict[str, str]]:
        response = self.client.post("/api/fonts", json={"name": name})
        assert response.status_code == 201, response.text
        return response.json()["id"], {"Authorization": f"Bearer {response.json()['token']}"}

    def upload(self, *files: tuple[str, bytes], **request: Any) -> httpx.Response:
        """POST photos to font A (or `font_id=`), as `photos` fields unless `field=` says otherwise."""
        field = request.pop("field", "photos")
        font_id = request.pop("font_id", self.font_id)
        headers = request.pop("headers", self.auth)
        parts = [(field, (name, data, "image/jpeg")) for name, data in files]
        return self.client.post(f"/api/fonts/{font_id}/pages", headers=headers, files=parts, **request)


@pytest.fixture(scope="module")
def site(photos: dict[int, bytes], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = create_database("geulssi_bad")
    db = Database(url)
    migrate.upgrade(db.engine)
    root = tmp_path_factory.mktemp("bad-uploads")
    settings = Settings(database_url=url, storage_dir=root / "artifacts", kafka_bootstrap_servers="")
    store = LocalArtifactStore(settings.storage_dir)
    try:
        with TestClient(create_app(settings, db=db, store=store, relay=False)) as client:
            made = Site(client, db, store, "", {}, "", {}, photos)
            made.font_id, made.auth = made.create_font("글씨 A")
            made.other_id, made.other_auth = made.create_font("someone else")
            first = made.upload(("page1.jpg", photos[1]))
            assert first.status_code == 200, first.text
            yield made
    finally:
        db.dispose()
        drop_database(url)


def snapshot(db: Database, root: Path) -> dict[str, Any]:
    """Row count and digest of every table, and (size, sha256) of every stored file."""
    state: dict[str, Any] = {}
    with db.engine.connect() as connection:
        tables = [row[0] for row in connection.execute(text("SHOW TABLES"))]
        assert set(SNAPSHOT_TABLES) <= set(tables)
        for table in tables:
            rows = connection.execute(text(f"SELECT * FROM `{table}` ORDER BY 1")).all()
            state[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    state["files"] = {
        str(p.relative_to(root)): (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }
    return state


def assert_readable(detail: object) -> None:
    """The error is one sentence for a person: a string of sensible length with no Python innards."""
    assert isinstance(detail, str), f"detail is not a sentence: {detail!r}"
    assert 12 <= len(detail) <= 600, detail
    leaked = [smell for smell in SMELLS if smell in detail]
    assert not leaked, f"{detail!r} shows {leaked}"


# --- the corpus
Send = Callable[[Site], httpx.Response]


@dataclass(frozen=True)
class Bad:
    name: str
    status: int
    words: str  # the answer's detail must contain these (case-insensitive)
    send: Send
    prepare: Callable[[Site], None] | None = None  # runs before the "before" snapshot


def photo(file_name: str, make: Callable[[], bytes]) -> Send:
    return lambda s: s.upload((file_name, make()))


def with_auth(headers: dict[str, Any]) -> Send:
    return lambda s: s.client.get(f"/api/fonts/{s.font_id}", headers=headers)


def raw_pages_post(content: bytes, content_type: str) -> Send:
    return lambda s: s.client.post(
        f"/api/fonts/{s.font_id}/pages", headers={**s.auth, "Content-Type": content_type}, content=content
    )


def raw_part(file_name: bytes, data: bytes) -> tuple[bytes, str]:
    """A multipart body of one "photos" part, file name bytes as given (httpx would escape odd ones)."""
    body = (
        b'--zz\r\nContent-Disposition: form-data; name="photos"; filename="' + file_name + b'"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + data + b"\r\n--zz--\r\n"
    )
    return body, "multipart/form-data; boundary=zz"


def create_raw(content: bytes, content_type: str = "application/json") -> Send:
    return lambda s: s.client.post("/api/fonts", content=content, headers={"Content-Type": content_type})


def delete_font_c(s: Site) -> None:
    """Create font C and delete it, so the case can try deleting it a second time."""
    font_id, auth = s.create_font("deleted")
    assert s.client.delete(f"/api/fonts/{font_id}", headers=auth).status_code == 204
    s.deleted = (font_id, auth)


CASES: list[Bad] = [
    # files that are not photos
    Bad("empty file", 422, "empty", photo("empty.jpg", lambda: b"")),
    Bad("text file renamed .jpg", 415, "only JPEG and PNG", photo("notes.jpg", corpus.text_file)),
    Bad("GIF", 415, "only JPEG and PNG", photo("page.gif", corpus.gif)),
    Bad("animated GIF", 415, "only JPEG and PNG", photo("anim.jpg", corpus.animated_gif)),
    Bad("BMP", 415, "only JPEG and PNG", photo("scan.bmp", corpus.bmp)),
    Bad("TIFF", 415, "only JPEG and PNG", photo("scan.tif", corpus.tiff)),
    Bad("WebP", 415, "only JPEG and PNG", photo("page.webp", corpus.webp)),
    Bad("HEIC named .jpg", 422, "HEIC", photo("IMG_0001.jpg", corpus.heic_garbage)),
    Bad("SVG with a script", 415, "only JPEG and PNG", photo("x.svg", corpus.svg_with_script)),
    Bad("HTML named .png", 415, "only JPEG and PNG", photo("index.png", corpus.html_page)),
    Bad("zip of photos", 415, "only JPEG and PNG", photo("pages.zip", corpus.zip_file)),
    Bad("a broken PDF", 422, "the PDF cannot be opened", photo("template.pdf", corpus.pdf_file)),
    # broken or hostile images
    Bad(
        "truncated JPEG",
        422,
        "truncated",
        lambda s: s.upload(("cut.jpg", corpus.truncated_jpeg(s.photos[2]))),
    ),
    Bad("PNG header, corrupt body", 422, "damaged", photo("broken.png", corpus.png_with_corrupt_body)),
    Bad("PNG decompression bomb", 413, "million pixels", photo("bomb.png", corpus.png_bomb)),
    Bad(
        "30000x30000 PNG",
        413,
        "million pixels",
        photo("huge.png", lambda: corpus.png_claiming(30_000, 30_000)),
    ),
    Bad(
        "30000x30000 JPEG",
        413,
        "million pixels",
        photo("huge.jpg", lambda: corpus.jpeg_claiming(30_000, 30_000)),
    ),
    Bad("100 MB file", 413, "larger than 25 MB", photo("big.jpg", corpus.huge_file)),
    Bad("1x1 image", 422, "only 1x1 pixels", photo("dot.png", corpus.one_pixel)),
    Bad("thumbnail 400x300", 422, "only 400x300 pixels", photo("thumb.jpg", corpus.small_jpeg)),
    Bad("16-bit PNG, no page", 422, "no template page", photo("deep.png", corpus.png_16_bit)),
    Bad("CMYK JPEG, no page", 422, "no template page", photo("print.jpg", corpus.cmyk_jpeg)),
    # photos that show no usable page
    Bad("photo with no template", 422, "no template page", photo("wall.jpg", corpus.photo_without_template)),
    Bad(
        "other template version", 422, "template version v0", photo("old.jpg", corpus.other_template_version)
    ),
    Bad("blank unfilled page", 422, "nothing is written", photo("blank.jpg", corpus.blank_page)),
    Bad("blurry page", 422, "blurry", photo("shaky.jpg", corpus.blurry_page)),
    Bad(
        "one page twice in one request",
        422,
        "both show page 2",
        lambda s: s.upload(("a.jpg", s.photos[2]), ("b.jpg", s.photos[2])),
    ),
    Bad(
        "a good photo and a bad one",
        415,
        "notes.txt",
        lambda s: s.upload(("good.jpg", s.photos[2]), ("notes.txt", corpus.text_file())),
    ),
    # file names: echoed as text, never used as a path
    Bad("unicode file name", 415, "사진 ① 🖋.jpg", photo("사진 ① 🖋.jpg", corpus.text_file)),
    Bad("path traversal file name", 415, "only JPEG", photo("../../../../etc/passwd.jpg", corpus.text_file)),
    Bad("absolute path file name", 415, "only JPEG", photo("/tmp/evil.jpg", corpus.html_page)),
    Bad(
        "NUL and control characters in the file name",
        415,
        "scanpage.jpg: only JPEG",
        raw_pages_post(*raw_part(b"scan\x00page\x07\x1b.jpg", b"hello")),
    ),
    # the form
    Bad("wrong field name", 422, "photos", lambda s: s.upload(("page.jpg", s.photos[2]), field="photo")),
    Bad(
        "zero photos in the form",
        422,
        "photos",
        lambda s: s.client.post(
            f"/api/fonts/{s.font_id}/pages", headers=s.auth, files=[("note", (None, "hi"))]
        ),
    ),
    Bad(
        "a text field named photos",
        422,
        "must be a file",
        lambda s: s.client.post(
            f"/api/fonts/{s.font_id}/pages", headers=s.auth, files=[("photos", (None, "x"))]
        ),
    ),
    Bad(
        "too many photos",
        413,
        "at most 10 photos",
        lambda s: s.upload(*[(f"{i}.jpg", corpus.small_jpeg()) for i in range(11)]),
    ),
    Bad(
        "JSON instead of multipart",
        422,
        "photos",
        lambda s: s.client.post(f"/api/fonts/{s.font_id}/pages", headers=s.auth, json={"photos": ["x.jpg"]}),
    ),
    Bad("text/plain body", 422, "photos", raw_pages_post(b"page1.jpg", "text/plain")),
    Bad(
        "empty multipart body",
        422,
        'field named "photos"',
        raw_pages_post(b"", "multipart/form-data; boundary=zz"),
    ),
    Bad(
        "multipart body cut short",
        422,
        'field named "photos"',
        raw_pages_post(
            raw_part(b"a.jpg", b"\xff\xd8\xff" * 100)[0][:150], "multipart/form-data; boundary=zz"
        ),
    ),
    Bad(
        "multipart without a boundary",
        400,
        "multipart",
        raw_pages_post(b"--x\r\n\r\n", "multipart/form-data"),
    ),
    Bad(
        "garbled multipart", 400, "multipart", raw_pages_post(b"garbage", "multipart/form-data; boundary=zz")
    ),
    # who is asking
    Bad("no Authorization header", 401, "token", lambda s: s.upload(("p.jpg", s.photos[2]), headers={})),
    Bad("Basic instead of Bearer", 401, "token", with_auth({"Authorization": "Basic dXNlcjpwYXNz"})),
    Bad("Bearer with no token", 401, "token", with_auth({"Authorization": "Bearer "})),
    Bad(
        "token without 'Bearer'",
        401,
        "token",
        lambda s: s.client.get(
            f"/api/fonts/{s.font_id}", headers={"Authorization": s.auth["Authorization"][7:]}
        ),
    ),
    Bad(
        "garbled token bytes",
        404,
        "no font with this id and token",
        with_auth({"Authorization": b"Bearer \xff\xfe\x00"}),
    ),
    Bad("invalid token", 404, "no font with this id and token", with_auth({"Authorization": "Bearer nope"})),
    Bad(
        "someone else's token",
        404,
        "no font with this id and token",
        lambda s: s.upload(("page2.jpg", s.photos[2]), headers=s.other_auth),
    ),
    Bad(
        "unknown font id",
        404,
        "no font with this id and token",
        lambda s: s.upload(("page2.jpg", s.photos[2]), font_id="noSuchFont000000"),
    ),
    Bad(
        "over-long font id",
        422,
        "at most 32 characters",
        lambda s: s.client.get(f"/api/fonts/{'x' * 200}", headers=s.auth),
    ),
    # font names and bodies
    Bad("empty font name", 422, "name", create_raw(b'{"name": ""}')),
    Bad("blank font name", 422, "needs a name", create_raw(b'{"name": "   "}')),
    Bad("too long font name", 422, "name", create_raw(('{"name": "%s"}' % ("가" * 64)).encode())),
    Bad("control characters in the name", 422, "control characters", create_raw(b'{"name": "a\\u0007b"}')),
    Bad("name is not a string", 422, "name", create_raw(b'{"name": 12}')),
    Bad("no JSON body", 422, "request body", create_raw(b"")),
    Bad("broken JSON", 422, "JSON", create_raw(b'{"name": ')),
    Bad(
        "form instead of JSON",
        422,
        "request body",
        create_raw(b"name=x", "application/x-www-form-urlencoded"),
    ),
    # the font's life cycle
    Bad(
        "submit before any upload",
        409,
        "200 of the 200 Hangul cells",
        lambda s: s.client.post(f"/api/fonts/{s.other_id}/submit", headers=s.other_auth),
    ),
    Bad(
        "download before build",
        404,
        "not been built",
        lambda s: s.client.get(f"/api/fonts/{s.font_id}/font.ttf", headers=s.auth),
    ),
    Bad(
        "preview before build",
        404,
        "not been built",
        lambda s: s.client.get(f"/api/fonts/{s.font_id}/preview.png", headers=s.auth),
    ),
    Bad(
        "sheet of a page not uploaded",
        404,
        "page 3 has not been uploaded",
        lambda s: s.client.get(f"/api/fonts/{s.font_id}/pages/3/sheet.png", headers=s.auth),
    ),
    Bad(
        "sheet of a page number past 64 bits",
        422,
        "page must be at most",
        lambda s: s.client.get(f"/api/fonts/{s.font_id}/pages/{2**70}/sheet.png", headers=s.auth),
    ),
    Bad(
        "sheet of page 'one'",
        422,
        "page",
        lambda s: s.client.get(f"/api/fonts/{s.font_id}/pages/one/sheet.png", headers=s.auth),
    ),
    Bad(
        "delete twice",
        404,
        "no font with this id and token",
        lambda s: s.client.delete(f"/api/fonts/{s.deleted[0]}", headers=s.deleted[1]),
        prepare=delete_font_c,
    ),
    Bad(
        "PUT on a font",
        405,
        "method not allowed",
        lambda s: s.client.put(f"/api/fonts/{s.font_id}", headers=s.auth, json={"name": "x"}),
    ),
]


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 40 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_request_is_refused_and_changes_nothing(site: Site, case: Bad) -> None:
    if case.prepare:
        case.prepare(site)
    before = snapshot(site.db, site.store.root)
    response = case.send(site)
    after = snapshot(site.db, site.store.root)

    assert response.status_code == case.status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    detail = response.json()["detail"]
    assert_readable(detail)
    assert case.words.lower() in detail.lower(), detail
    assert after == before


def test_upside_down_page_is_read(site: Site) -> None:
    shot = simulate(3, seed=21, rotation=180)
    response = site.upload(("upside-down.jpg", shot.jpeg), font_id=site.other_id, headers=site.other_auth)
    assert response.status_code == 200, response.text
    report = response.json()["pages"][0]
    assert report["page"] == 3 and report["cells_ok"] > 80


def test_page_photographed_twice_keeps_only_the_second(site: Site) -> None:
    font_id, auth = site.create_font("twice")
    first = simulate(2, seed=22).jpeg
    second = simulate(2, seed=22, camera_seed=1).jpeg  # the same sheet, another photo
    assert first != second
    for name, data in (("first.jpg", first), ("second.jpg", second)):
        assert site.upload((name, data), font_id=font_id, headers=auth).status_code == 200
    status = site.client.get(f"/api/fonts/{font_id}", headers=auth).json()
    assert [(p["page"], p["photo"]) for p in status["pages"]] == [(2, "second.jpg")]
    files = [p for p in (site.store.root / "fonts" / font_id).rglob("*") if p.is_file()]
    assert sorted(p.suffix for p in files) == [".jpg", ".png"]
    assert next(p for p in files if p.suffix == ".jpg").read_bytes() == second
    with site.db.engine.connect() as connection:
        pages = connection.execute(text("SELECT COUNT(*) FROM pages WHERE font_id = :f"), {"f": font_id})
        assert pages.scalar_one() == 1
