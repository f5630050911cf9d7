"""The API as a contract: a logged JSON 500 with a request id, every status documented with the body really
sent, every number bounded before the database, and house sentences instead of framework words.

Routes are walked from the app, so a route added later is held to the same rules without editing this file.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.api import contract
from services.api.app import create_app
from services.api.deps import get_font
from services.api.errors import REQUEST_ID_HEADER
from services.config import Settings
from services.db.session import Database
from services.storage import LocalArtifactStore

pytestmark = pytest.mark.mysql
# What FastAPI and Starlette say on their own; none of it may reach a person.
FRAMEWORK_WORDS = (
    "Missing boundary in multipart",
    "Invalid multipart data",
    "There was an error parsing the body",
    "Field required",
    "Not Found",
    "Method Not Allowed",
    "Internal Server Error",
    "should be",  # pydantic: "String should have at most ...", "Input should be a valid string"
    "should have",
    "Value error",
    "unable to parse",
)
ERROR_MODELS = {"ErrorMessage", "ServerError", "MissingCells"}


def create(client: TestClient) -> tuple[str, dict[str, str]]:
    response = client.post("/api/fonts", json={"name": "계약"})
    assert response.status_code == 201, response.text
    return response.json()["id"], {"Authorization": f"Bearer {response.json()['token']}"}


# --- the 500


def test_an_unexpected_exception_answers_a_json_500_with_a_request_id(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    app: FastAPI = client.app  # type: ignore[assignment]

    @app.get("/api/contract-test-explodes")
    def explodes() -> None:
        raise RuntimeError("a bug nobody foresaw")

    with caplog.at_level(logging.ERROR):
        response = client.get("/api/contract-test-explodes")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    request_id = body["request_id"]
    assert re.fullmatch(r"[0-9a-f]{16}", request_id) and request_id in body["detail"]
    assert response.headers[REQUEST_ID_HEADER] == request_id
    assert "RuntimeError" not in response.text and "bug nobody foresaw" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    logged = [r for r in caplog.records if request_id in r.getMessage()]
    assert len(logged) == 1 and logged[0].levelno == logging.ERROR
    assert logged[0].exc_info and logged[0].exc_info[0] is RuntimeError  # the traceback is in the log


def test_every_answer_carries_a_request_id(client: TestClient) -> None:
    first = client.get("/api/health")
    second = client.get("/api/fonts/nope")  # a refusal too
    ids = {first.headers[REQUEST_ID_HEADER], second.headers[REQUEST_ID_HEADER]}
    assert len(ids) == 2
    given = client.get("/api/health", headers={REQUEST_ID_HEADER: "lb-0123456789abcdef"})
    assert given.headers[REQUEST_ID_HEADER] == "lb-0123456789abcdef"  # a load balancer's id is kept
    forged = client.get("/api/health", headers={REQUEST_ID_HEADER: "x\r\nSet-Cookie: a=b"})
    assert re.fullmatch(r"[0-9a-f]{16}", forged.headers[REQUEST_ID_HEADER])  # anything odd is replaced


# --- the document


def operations(client: TestClient) -> list[tuple[str, str, Any, dict[str, Any]]]:
    document = client.get("/openapi.json").json()
    found = []
    for path, method, route in contract.api_routes(client.app):  # type: ignore[arg-type]
        operation = document["paths"].get(path, {}).get(method.lower())
        if operation is not None:
            found.append((path, method, route, operation))
    assert len(found) >= 15
    return found


def raised_statuses(route: Any) -> set[int]:
    """Statuses the route's endpoint and its dependencies raise or return with a literal number."""
    calls = [route.endpoint] + [c for c in contract._dependency_calls(route) if inspect.isfunction(c)]
    source = "\n".join(inspect.getsource(c) for c in calls)
    patterns = (
        r"HTTPException\(\s*(\d{3})",
        r"status_code=(\d{3})",
        r"HTTP_(\d{3})_",
        r"Error\([^()]*, (\d{3})\)",
    )
    return {int(n) for pattern in patterns for n in re.findall(pattern, source)}


def schema_name(response: dict[str, Any]) -> str:
    ref = response.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    return str(ref.rsplit("/", 1)[-1])


def test_every_route_documents_every_status_it_answers(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(document)  # 422 sends {"detail": sentence}, not a list
    for name in ERROR_MODELS:
        assert document["components"]["schemas"][name]["properties"]["detail"]["type"] == "string"
    for path, method, route, operation in operations(client):
        where = f"{method} {path}"
        responses = operation["responses"]
        documented = {int(s) for s in responses}
        assert schema_name(responses["500"]) == "ServerError", where
        if operation.get("parameters") or operation.get("requestBody"):
            assert schema_name(responses["422"]) in ERROR_MODELS, where
        if operation.get("requestBody"):
            assert {400, 413} <= documented, where
        assert raised_statuses(route) <= documented, (where, raised_statuses(route) - documented)
        for status, response in responses.items():
            if int(status) >= 400:
                assert schema_name(response) in ERROR_MODELS, (where, status)
        if get_font in contract._dependency_calls(route):
            assert {401, 404} <= documented, where
        if path.startswith("/api/ops") or path == "/metrics":
            assert {401, 403, 503} <= documented, where


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return resolve(document, document["components"]["schemas"][ref.rsplit("/", 1)[-1]]) if ref else schema


def unbounded_integers(document: dict[str, Any], schema: dict[str, Any], where: str) -> list[str]:
    schema = resolve(document, schema)
    found = []
    if schema.get("type") == "integer" and not ("minimum" in schema and "maximum" in schema):
        found.append(where)
    for key in ("anyOf", "oneOf", "allOf"):
        for i, part in enumerate(schema.get(key, [])):
            found += unbounded_integers(document, part, f"{where}|{i}")
    for name, part in schema.get("properties", {}).items():
        found += unbounded_integers(document, part, f"{where}.{name}")
    if isinstance(schema.get("items"), dict):
        found += unbounded_integers(document, schema["items"], f"{where}[]")
    return found


def test_every_number_a_request_carries_is_bounded(client: TestClient) -> None:
    """Path, query, header and body integers all have a minimum and a maximum the database can hold."""
    document = client.get("/openapi.json").json()
    unbounded = []
    for path, method, _, operation in operations(client):
        for parameter in operation.get("parameters", []):
            unbounded += unbounded_integers(
                document, parameter["schema"], f"{method} {path} {parameter['name']}"
            )
        for media in operation.get("requestBody", {}).get("content", {}).values():
            unbounded += unbounded_integers(document, media["schema"], f"{method} {path} body")
    assert not unbounded


def test_numbers_past_64_bits_are_refused_with_a_sentence(client: TestClient) -> None:
    font_id, auth = create(client)
    for page, words in (
        ("1180591620717411303424", "at most"),
        ("0", "at least"),
        ("-1", "at least"),
        ("1e3", "whole number"),
        ("9" * 5000, "whole number"),
    ):
        response = client.get(f"/api/fonts/{font_id}/pages/{page}/sheet.png", headers=auth)
        assert response.status_code == 422, (page, response.text)
        assert response.json()["detail"].startswith("page must be") and words in response.json()["detail"]


# --- house sentences


def multipart(name: bytes, field: bytes = b"photos", data: bytes = b"not a photo") -> tuple[bytes, str]:
    body = (
        b'--zz\r\nContent-Disposition: form-data; name="' + field + b'"; filename="' + name + b'"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + data + b"\r\n--zz--\r\n"
    )
    return body, "multipart/form-data; boundary=zz"


def test_framework_refusals_are_house_sentences(client: TestClient) -> None:
    font_id, auth = create(client)
    pages = f"/api/fonts/{font_id}/pages"
    whole, kind = multipart(b"page.jpg")
    wrong_field, _ = multipart(b"page.jpg", field=b"photo")
    cases = [
        ("no boundary", "POST", pages, b"--x\r\n\r\n", "multipart/form-data", 400, "multipart"),
        ("garbled", "POST", pages, b"garbage", kind, 400, "multipart"),
        ("cut short", "POST", pages, whole[:60], kind, 422, 'field named "photos"'),
        ("wrong field name", "POST", pages, wrong_field, kind, 422, 'field named "photos"'),
        ("empty body", "POST", pages, b"", kind, 422, 'field named "photos"'),
        ("no body at all", "POST", "/api/fonts", b"", "application/json", 422, "request body is missing"),
        (
            "not UTF-8",
            "POST",
            "/api/fonts",
            b'{"name": "\xff\xfe"}',
            "application/json",
            400,
            "send it again",
        ),
        ("unknown address", "GET", "/api/nothing-here", b"", "", 404, "/docs"),
        ("wrong method", "PATCH", f"/api/fonts/{font_id}", b"", "", 405, "does not accept PATCH"),
    ]
    for name, method, url, content, content_type, status, words in cases:
        headers = {**auth, "Content-Type": content_type} if content_type else auth
        response = client.request(method, url, content=content, headers=headers)
        assert response.status_code == status, (name, response.text)
        detail = response.json()["detail"]
        assert isinstance(detail, str) and words in detail, (name, detail)
        assert not any(w in detail for w in FRAMEWORK_WORDS), (name, detail)


def test_field_refusals_are_house_sentences(settings: Settings, db: Database) -> None:
    """Pydantic's own words for a wrong field (length, type, list size) reach nobody."""
    operator = settings.model_copy(update={"operator_token": "contract-operator"})
    client = TestClient(
        create_app(operator, db=db, store=LocalArtifactStore(operator.storage_dir), relay=False)
    )
    font_id, auth = create(client)
    ops = {"Authorization": "Bearer contract-operator"}
    fix = f"/api/fonts/{font_id}/fix"
    cases = [
        ("name too long", "/api/fonts", {"name": "가" * 64}, {}, "at most 63 characters"),
        ("name empty", "/api/fonts", {"name": ""}, {}, "at least 1 character"),
        ("name a number", "/api/fonts", {"name": 5}, {}, "must be text"),
        ("too many marked", fix, {"codepoints": [0xAC00] * 201}, auth, "at most 200 items"),
        ("marked not a list", fix, {"codepoints": "가"}, auth, "must be a list"),
        ("marked not numbers", fix, {"codepoints": [1.5]}, auth, "whole number"),
        ("reason only controls", "/api/ops/intake/pause", {"reason": "\x00\n\u202e"}, ops, "no readable"),
    ]
    for name, url, body, headers, words in cases:
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 422, (name, response.text)
        detail = response.json()["detail"]
        assert words in detail, (name, detail)
        assert not any(w in detail for w in FRAMEWORK_WORDS), (name, detail)


def test_a_pause_reason_is_stored_without_control_characters(settings: Settings, db: Database) -> None:
    operator = settings.model_copy(update={"operator_token": "contract-operator"})
    client = TestClient(
        create_app(operator, db=db, store=LocalArtifactStore(operator.storage_dir), relay=False)
    )
    ops = {"Authorization": "Bearer contract-operator"}
    paused = client.post("/api/ops/intake/pause", json={"reason": "disk\x00 swap\n\u202e now"}, headers=ops)
    assert paused.status_code == 200, paused.text
    assert paused.json()["intake"]["reason"] == "disk swap now"
    assert client.post("/api/ops/intake/resume", headers=ops).status_code == 200


def test_every_route_documents_the_413_it_answers_to_a_large_body(settings: Settings, db: Database) -> None:
    """The body-size guard stands before every route, so a GET with a huge body answers 413 too."""
    small = settings.model_copy(update={"max_upload_bytes": 100_000})
    client = TestClient(create_app(small, db=db, store=LocalArtifactStore(small.storage_dir), relay=False))
    font_id, auth = create(client)
    checked = 0
    for path, method, _, operation in operations(client):
        assert "413" in operation["responses"], (method, path)
        if operation.get("requestBody"):
            continue
        url = re.sub(r"\{[a-z_]+\}", lambda m: font_id if m.group() == "{font_id}" else "1", path)
        too_large = b"x" * (small.max_request_bytes + 1)
        answer = client.request(method, url, content=too_large, headers=auth)
        assert answer.status_code == 413, (method, path, answer.text)
        checked += 1
    assert checked >= 8


def test_file_names_lose_control_characters(client: TestClient) -> None:
    font_id, auth = create(client)
    body, kind = multipart(
        b"scan\x00\x07\x1b[31m\xe2\x80\xaegpj.exe"
    )  # NUL, BEL, ESC, right-to-left override
    response = client.post(
        f"/api/fonts/{font_id}/pages", content=body, headers={**auth, "Content-Type": kind}
    )
    assert response.status_code == 415, response.text
    detail = response.json()["detail"]
    assert detail.startswith("scan[31mgpj.exe: only JPEG and PNG"), detail
    assert not any(ch in detail for ch in "\x00\x07\x1b\u202e")


# --- headers


def test_the_new_token_is_never_cached_and_pages_are_not_frameable(client: TestClient) -> None:
    created = client.post("/api/fonts", json={"name": "비밀"})
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    for path in ("/", "/ops", "/docs", "/api/health"):
        response = client.get(path)
        assert response.headers["x-frame-options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"], path


def test_the_statuses_every_body_route_shares_are_real(settings: Settings, db: Database) -> None:
    """What the document adds to every route taking a body happens: 413 too large, 400 unreadable."""
    small = settings.model_copy(update={"max_upload_bytes": 100_000, "max_photos_per_upload": 2})
    client = TestClient(create_app(small, db=db, store=LocalArtifactStore(small.storage_dir), relay=False))
    font_id, auth = create(client)
    checked = 0
    for path, method, _, operation in operations(client):
        content = operation.get("requestBody", {}).get("content", {})
        if not content:
            continue
        url = re.sub(r"\{[a-z_]+\}", lambda m: font_id if m.group() == "{font_id}" else "x", path)
        multipart_body = "multipart/form-data" in content
        kind = "multipart/form-data" if multipart_body else "application/json"
        too_many = b"x" * (small.max_request_bytes + 1)
        large = client.request(method, url, content=too_many, headers={**auth, "Content-Type": kind})
        assert large.status_code == 413, (method, path, large.text)
        unreadable = b"--x\r\n" if multipart_body else b'{"name": "\xff\xfe"}'
        bad = client.request(method, url, content=unreadable, headers={**auth, "Content-Type": kind})
        assert bad.status_code == 400, (method, path, bad.text)
        checked += 1
    assert checked >= 4
