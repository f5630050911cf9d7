"""Security promises: unguessable hashed tokens, per-font and operator access, no path traversal, safe types.

Routes are discovered from the app, so a route added later is checked without editing this file.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import inspect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

import services.api
from services.api.app import create_app
from services.config import Settings
from services.db import jobs, queries
from services.db.session import Database, utcnow
from services.storage import LocalArtifactStore, result_key, result_prefix, validate_key

pytestmark = pytest.mark.mysql
OPERATOR_TOKEN = "operator-" + "k" * 40
SAFE_TYPES = {"application/json", "image/png", "font/ttf", "font/woff2", "application/pdf"}


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """(path, method) of every HTTP route, including those of included routers."""

    def walk(items: Iterable[object], prefix: str) -> Iterator[tuple[str, str]]:
        for route in items:
            inner = getattr(route, "original_router", None)  # FastAPI >= 0.120 keeps included routers whole
            if inner is not None:
                context_prefix = getattr(getattr(route, "include_context", None), "prefix", "") or ""
                yield from walk(inner.routes, prefix + context_prefix)
            elif getattr(route, "methods", None):
                path: str = getattr(route, "path")  # noqa: B009
                yield from ((prefix + path, m) for m in sorted(getattr(route, "methods")) if m != "HEAD")  # noqa: B009

    return sorted(set(walk(app.routes, "")))


def is_operator_route(path: str) -> bool:
    return path.startswith(("/api/ops", "/ops")) or path == "/metrics"


@dataclass
class Site:
    """The app with an operator token, font A (owner) and font B (a stranger); `root` holds the store."""

    client: TestClient
    db: Database
    store: LocalArtifactStore
    root: Path
    a: tuple[str, str]  # (id, token)
    b: tuple[str, str]

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def create_font(self, name: str) -> tuple[str, str]:
        response = self.client.post("/api/fonts", json={"name": name})
        assert response.status_code == 201, response.text
        return response.json()["id"], response.json()["token"]


@pytest.fixture
def site(settings: Settings, db: Database, tmp_path: Path) -> Iterator[Site]:
    guarded = settings.model_copy(update={"operator_token": OPERATOR_TOKEN})
    store = LocalArtifactStore(guarded.storage_dir)
    with TestClient(create_app(guarded, db=db, store=store, relay=False)) as client:
        made = Site(client, db, store, tmp_path, ("", ""), ("", ""))
        made.a, made.b = made.create_font("글씨 A"), made.create_font("stranger")
        yield made


def fill(path: str, font_id: str) -> str:
    return (
        path.replace("{font_id}", font_id)
        .replace("{page}", "1")
        .replace("{job_id}", "nope")
        .replace("{worker_id}", "nope")
    )


# --- tokens


def test_tokens_are_long_random_and_distinct(site: Site) -> None:
    tokens = [site.create_font(f"font {i}")[1] for i in range(30)]
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128, token
    # 30 random url-safe tokens use nearly all 64 symbols; a counter or a hex digest would use 16 or fewer.
    assert len(set("".join(tokens))) > 50
    made_by = re.search(r"secrets\.token_urlsafe\((\d+)\)", inspect.getsource(queries.create_font))
    assert made_by and int(made_by.group(1)) >= 16


def test_tokens_are_stored_only_as_hashes(site: Site, photos: dict[int, bytes]) -> None:
    font_id, token = site.a
    upload = site.client.post(
        f"/api/fonts/{font_id}/pages",
        headers=site.auth(token),
        files=[("photos", ("page3.jpg", photos[3], "image/jpeg"))],
    )
    assert upload.status_code == 200, upload.text
    with site.db.engine.connect() as connection:
        tables = [row[0] for row in connection.execute(text("SHOW TABLES"))]
        dump = "\n".join(repr(connection.execute(text(f"SELECT * FROM `{t}`")).all()) for t in tables)
        stored_hash = connection.execute(text("SELECT token_hash FROM fonts WHERE id = :i"), {"i": font_id})
        assert stored_hash.scalar_one() == hashlib.sha256(token.encode()).hexdigest()
    assert "fonts" in tables and token not in dump and token[:16] not in dump
    for path in site.store.root.rglob("*"):
        assert not path.is_file() or token.encode() not in path.read_bytes()


def test_no_token_is_compared_with_equals() -> None:
    """Token checks use hmac.compare_digest (constant time); no `==` on anything named like a token."""
    assert "compare_digest" in inspect.getsource(queries.authenticate)
    offenders = []
    for module in Path(services.api.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Compare) and any(isinstance(o, ast.Eq | ast.NotEq) for o in node.ops):
                sides = " ".join(ast.unparse(n) for n in [node.left, *node.comparators])
                secret = re.sub(r"\w+\.scheme\b[.\w()]*", "", sides)  # "Bearer" is no secret
                if re.search(r"token|credential|secret|hash", secret, re.IGNORECASE):
                    offenders.append(f"{module.name}:{node.lineno}: {ast.unparse(node)}")
    assert not offenders


# --- who may call what


def test_every_font_route_needs_that_fonts_token(site: Site) -> None:
    font_routes = [(p, m) for p, m in routes(site.client.app) if "{font_id}" in p]  # type: ignore[arg-type]
    assert len(font_routes) >= 8, font_routes
    (font_id, _), (_, stranger) = site.a, site.b
    for path, method in font_routes:
        url = fill(path, font_id)
        bare = site.client.request(method, url)
        assert bare.status_code == 401, (method, path, bare.text)
        other = site.client.request(method, url, headers=site.auth(stranger))
        assert other.status_code == 404, (method, path, other.text)
        assert other.json() == {"detail": "no font with this id and token"}
        assert "글씨 A" not in other.text
    assert site.client.get(f"/api/fonts/{font_id}", headers=site.auth(site.a[1])).status_code == 200


def operator_routes(app: FastAPI) -> list[tuple[str, str]]:
    found = [(p, m) for p, m in routes(app) if is_operator_route(p)]
    if not found:
        pytest.skip("no operator routes (/api/ops/..., /ops, /metrics) exist yet (issue #6)")
    return found


def test_operator_routes_need_the_operator_token(site: Site) -> None:
    (font_id, font_token), operator = site.a, site.auth(OPERATOR_TOKEN)
    for path, method in operator_routes(site.client.app):  # type: ignore[arg-type]
        url = fill(path, font_id)
        bare = site.client.request(method, url)
        if bare.status_code == 200 and bare.headers["content-type"].startswith("text/html"):
            # The operator page is a static shell: the same bytes for everyone, holding no data.
            assert site.client.request(method, url, headers=operator).content == bare.content
            assert font_id not in bare.text and "글씨 A" not in bare.text
            continue
        assert bare.status_code == 401, (method, path, bare.text)
        for token in (font_token, OPERATOR_TOKEN[:-1], OPERATOR_TOKEN + "x"):
            wrong = site.client.request(method, url, headers=site.auth(token))
            assert wrong.status_code in (401, 403), (method, path, wrong.text)
        allowed = site.client.request(method, url, headers=operator)
        assert allowed.status_code not in (401, 403) and allowed.status_code < 500, (
            method,
            path,
            allowed.text,
        )


def test_operator_routes_are_off_without_an_operator_token(client: TestClient) -> None:
    assert client.app.state.settings.operator_token == ""  # type: ignore[attr-defined]
    for path, method in operator_routes(client.app):  # type: ignore[arg-type]
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer x"}):
            response = client.request(method, fill(path, "x"), headers=headers)
            if response.status_code == 200 and response.headers["content-type"].startswith("text/html"):
                continue  # the operator page's static shell; the routes holding data are checked here
            assert response.status_code in (401, 403, 503), (method, path, headers, response.text)


# --- the artifact store cannot be left


TRAVERSALS = [
    "/api/fonts/..%2F..%2Fsentinel.txt",
    "/api/fonts/%2e%2e/%2e%2e/sentinel.txt",
    "/api/fonts/%2e%2e%2f%2e%2e%2fsentinel.txt/font.ttf",
    "/api/fonts/{a}/../../../sentinel.txt",
    "/api/fonts/{a}/pages/..%2F..%2F..%2Fsentinel.txt/sheet.png",
    "/api/fonts/{a}/pages/-1/sheet.png",
    "/api/fonts/{a}/pages/99999999999999999999999/sheet.png",
    "/api/fonts/%2Ftmp%2Fsentinel.txt",
    "/static/../../sentinel.txt",
    "/static/..%2F..%2F..%2Fsentinel.txt",
    "/static/%2e%2e/%2e%2e/sentinel.txt",
]
EVIL_NAMES = ["../../../sentinel.txt", "/tmp/../sentinel.txt", "C:\\..\\%2e%2e%2fevil.html"]


def outside_store(root: Path, store: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file() and store not in p.parents}


def test_no_path_leaves_the_artifact_store(site: Site, photos: dict[int, bytes]) -> None:
    sentinel = site.root / "sentinel.txt"
    sentinel.write_text("SENTINEL-must-stay-unread")
    before = outside_store(site.root, site.store.root)
    (font_id, token) = site.a
    for path in TRAVERSALS:
        response = site.client.get(path.format(a=font_id), headers=site.auth(token))
        assert 400 <= response.status_code < 500, (path, response.status_code)
        assert b"SENTINEL" not in response.content, path

    # Hostile file names are kept as text only; the stored files get our own keys.
    files = [
        ("photos", (name, photos[page], "image/jpeg"))
        for name, page in zip(EVIL_NAMES, (1, 2, 3), strict=True)
    ]
    response = site.client.post(f"/api/fonts/{font_id}/pages", headers=site.auth(token), files=files)
    assert response.status_code == 200, response.text
    # The multipart parser keeps only what follows a Windows path's last backslash (old browsers sent paths).
    assert [p["photo"] for p in response.json()["pages"]] == [*EVIL_NAMES[:2], "%2e%2e%2fevil.html"]
    stored = sorted(str(p.relative_to(site.store.root)) for p in site.store.root.rglob("*") if p.is_file())
    key = re.compile(rf"fonts/{re.escape(font_id)}/pages/[123]-[A-Za-z0-9_-]{{8}}(\.jpg|-sheet\.png)")
    assert len(stored) == 6 and all(key.fullmatch(k) for k in stored), stored
    assert outside_store(site.root, site.store.root) == before

    for bad in ("../sentinel.txt", "/etc/passwd", "fonts/../../sentinel.txt", "%2e%2e/x", ".hidden", "a//b"):
        with pytest.raises(ValueError, match="not a valid artifact key"):
            validate_key(bad)
        for call in (site.store.get, site.store.exists, site.store.delete, site.store.delete_prefix):
            with pytest.raises(ValueError):
                call(bad)
        with pytest.raises(ValueError):
            site.store.put(bad, b"overwritten")
    assert sentinel.read_text() == "SENTINEL-must-stay-unread"
    assert outside_store(site.root, site.store.root) == before


# --- what is served, and as what


def built_font(site: Site, photo: bytes) -> None:
    """Font A with page 1 uploaded under a hostile name and type, and a finished build (stand-in files)."""
    font_id, token = site.a
    part = ("photos", ("x.html", photo, "text/html"))
    assert site.client.post(f"/api/fonts/{font_id}/pages", headers=site.auth(token), files=[part]).is_success
    with site.db.session() as session:
        job, _ = jobs.submit_job(session, font_id, "jobs-security", utcnow())
        assert jobs.claim_job(session, job.id, "test-worker", 60, 3, utcnow())
        prefix = result_prefix(font_id, job.id)
        for kind in ("ttf", "woff2", "preview"):
            site.store.put(result_key(prefix, kind), b"<html><script>alert(1)</script></html>")
        assert jobs.finish_job(session, job.id, "test-worker", prefix, {"package": 1.0}, utcnow())


def test_every_answer_has_a_safe_type_and_nosniff(site: Site, photos: dict[int, bytes]) -> None:
    built_font(site, photos[1])
    font_id, token = site.a
    served = []
    for path, method in routes(site.client.app):  # type: ignore[arg-type]
        if method != "GET" or "{" in path.replace("{font_id}", "").replace("{page}", ""):
            continue
        headers = site.auth(OPERATOR_TOKEN if is_operator_route(path) else token)
        for sent in (headers, {}):  # the answer and the refusal
            response = site.client.get(fill(path, font_id), headers=sent)
            served.append(path)
            kind = response.headers.get("content-type", "").split(";")[0]
            assert response.headers.get("x-content-type-options") == "nosniff", path
            assert response.headers.get("x-frame-options") == "DENY", path  # nothing may be framed
            assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", ""), path
            if path.startswith("/api/") and response.status_code >= 400:
                assert response.headers.get("cache-control") == "no-store", path
            if kind == "text/html":  # only our own pages, never anything under /api
                assert not path.startswith("/api/") and response.status_code == 200, path
            elif kind == "text/plain":
                assert path == "/metrics", path
            elif kind == "image/svg+xml":  # an SVG is a document: it may run nothing at all
                assert "default-src 'none'" in response.headers["content-security-policy"], path
            else:
                assert kind in SAFE_TYPES, (path, kind)
            # The upload itself is never served back, whatever it was called or claimed to be.
            assert response.content != photos[1], path
    assert {f"/api/fonts/{{font_id}}/{name}" for name in ("font.ttf", "font.woff2", "preview.png")} <= set(
        served
    )


def test_downloads_keep_our_name_and_type(site: Site, photos: dict[int, bytes]) -> None:
    evil_name = 'x"; filename="evil.html'
    font_id, token = site.create_font(evil_name)
    site.a = (font_id, token)
    built_font(site, photos[1])
    for name, media in (("font.ttf", "font/ttf"), ("font.woff2", "font/woff2"), ("preview.png", "image/png")):
        response = site.client.get(f"/api/fonts/{font_id}/{name}", headers=site.auth(token))
        assert response.status_code == 200 and response.headers["content-type"] == media
        assert response.headers["content-disposition"].endswith(f'filename="geulssi-{name}"')
        assert "evil" not in response.headers["content-disposition"]
    stored = [p.name for p in site.store.root.rglob("*") if p.is_file() and "/pages/" in str(p)]
    assert sorted(Path(n).suffix for n in stored) == [".jpg", ".png"] and not any("html" in n for n in stored)
