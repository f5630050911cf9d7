"""Error answers for every route: house sentences instead of framework words, and a logged JSON 500.

Installed once by `install(app)`, so routes added later get the same answers without doing anything.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.api.deps import NO_FONT
from services.db.queries import FontNotFound

log = logging.getLogger(__name__)
REQUEST_ID_HEADER = "X-Request-ID"
_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")  # a load balancer's id is kept when it is sane
SERVER_ERROR = (
    "something went wrong on our side, not because of your request; please try again in a minute, "
    "and if it keeps happening tell us the request id {request_id}"
)
PHOTOS_MISSING = (
    'send the photos as multipart/form-data in a field named "photos", one file per template page; '
    "none arrived (another field name, an empty body, or a body cut short)"
)
# Framework words (Starlette's multipart parser, FastAPI's body reader, the router) -> what to do instead.
_FRAMEWORK_WORDS: list[tuple[str, str]] = [
    (
        "Missing boundary in multipart",
        "the upload is not valid multipart/form-data: its Content-Type has no boundary; send the photos "
        'as a form upload (field "photos", one file per page) and let your HTTP library set the header',
    ),
    (
        "Invalid multipart data",
        'the multipart upload is damaged or was cut short; send the photos again (field "photos", '
        "one file per page)",
    ),
    (
        "There was an error parsing the body",
        "the request body could not be read: it is damaged, cut short, or not what its Content-Type "
        "says; send it again",
    ),
    ("Too many files", "the form holds too many files; send at most 10 photos per upload"),
    ("Too many fields", 'the form holds too many fields; send only the photos (field "photos")'),
    ("Field exceeded maximum size", "a text field of the form is larger than 1 MB; send photos as files"),
    ("Part exceeded maximum size", "a text field of the form is larger than 1 MB; send photos as files"),
    (
        'The Content-Disposition header field "name" must be provided',
        'a part of the multipart upload has no field name; send every photo in the field "photos"',
    ),
]


def request_id(request: Request) -> str:
    """The id RequestGuard gave this request (also sent back in X-Request-ID)."""
    return str(request.scope.get("state", {}).get("request_id", "-"))


def framework_sentence(status: int, detail: Any, method: str) -> Any:
    """Our sentence for a framework's message; any other detail is returned unchanged."""
    if status == 404 and detail == "Not Found":
        return "there is nothing at this address; the API's addresses are listed at /docs"
    if status == 405 and detail == "Method Not Allowed":
        return f"method not allowed: this address does not accept {method}; see /docs for what it does accept"
    if isinstance(detail, str):
        for words, sentence in _FRAMEWORK_WORDS:
            if detail.startswith(words):
                return sentence
    return detail


def _where(loc: tuple[Any, ...]) -> str:
    where = ".".join(str(p) for p in loc if p not in ("body", "query", "path", "header"))
    return where or ("the request body" if loc[:1] == ("body",) else "the request")


def _count(number: int, kind: str) -> str:
    unit = "character" if kind.startswith("string") else "item"
    return f"{number} {unit}" + ("" if number == 1 else "s")


def _error_sentence(error: dict[str, Any]) -> str:
    loc, kind = tuple(error.get("loc", ())), str(error.get("type", ""))
    where, msg, ctx = _where(loc), str(error.get("msg", "invalid")), error.get("ctx") or {}
    if kind == "missing" and loc == ("body", "photos"):
        return PHOTOS_MISSING
    if kind == "missing" and loc == ("body",):
        return "the request body is missing: send a JSON object as /docs shows for this call"
    if kind == "missing":
        return f"{where} is missing: add it to the request (see /docs)"
    if kind == "json_invalid":
        return "the request body is not valid JSON: send a JSON object as /docs shows for this call"
    if kind in ("model_attributes_type", "dict_type") and loc == ("body",):
        return "the request body must be a JSON object, sent with Content-Type: application/json"
    if kind.startswith("int_"):
        return f"{where} must be a whole number"
    if kind == "less_than_equal" and "le" in ctx:
        return f"{where} must be at most {ctx['le']}"
    if kind == "greater_than_equal" and "ge" in ctx:
        return f"{where} must be at least {ctx['ge']}"
    if kind in ("string_too_long", "too_long") and "max_length" in ctx:
        return f"{where} is too long: at most {_count(ctx['max_length'], kind)}"
    if kind in ("string_too_short", "too_short") and "min_length" in ctx:
        return f"{where} is too short: at least {_count(ctx['min_length'], kind)}"
    if kind in ("string_type", "string_unicode"):
        return f"{where} must be text (a JSON string in UTF-8)"
    if kind == "list_type":
        return f"{where} must be a list (a JSON array)"
    if kind in ("finite_number", "float_type", "float_parsing"):
        return f"{where} must be an ordinary number"
    if kind in ("bool_type", "bool_parsing"):
        return f"{where} must be true or false"
    if kind == "string_pattern_mismatch":
        return f"{where} holds characters that are not allowed here"
    if kind == "enum" and "expected" in ctx:
        return f"{where} must be one of {ctx['expected']}"
    if "Expected UploadFile" in msg:  # a text field where a file belongs; pydantic's words show a repr
        return f"{where}: must be a file (multipart/form-data with a file name), not text"
    if kind == "value_error" and "error" in ctx:
        return f"{where}: {ctx['error']}"
    return f"{where}: {msg}"


def validation_message(exc: RequestValidationError) -> str:
    """All of a request's validation errors as one sentence, each naming the field it is about."""
    return "; ".join(dict.fromkeys(_error_sentence(e) for e in exc.errors())) or "the request is not valid"


def install(app: FastAPI) -> None:
    """Register the error answers on `app`; the app adds RequestGuard itself, inside SecurityHeaders."""

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (204, 304):
            return Response(status_code=exc.status_code, headers=exc.headers)
        detail = framework_sentence(exc.status_code, exc.detail, request.method)
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": validation_message(exc)}, status_code=422)

    @app.exception_handler(FontNotFound)
    async def font_gone(_: Request, exc: FontNotFound) -> JSONResponse:
        return JSONResponse({"detail": NO_FONT}, status_code=404)  # deleted by a request running alongside


class RequestGuard:
    """ASGI middleware: a request id on every answer, and for an unexpected exception a JSON 500 that
    carries the id, logged with the same id. Installed inside SecurityHeaders, so the 500 has them too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.lower().encode(), b"")
        text = incoming.decode("latin-1")
        rid = text if _CLIENT_REQUEST_ID.match(text) else uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message).setdefault(REQUEST_ID_HEADER, rid)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception(
                "request %s: %s %s failed unexpectedly", rid, scope.get("method"), scope.get("path")
            )
            if started:  # part of the answer is out already: nothing better to send, let the server close it
                raise
            body = {"detail": SERVER_ERROR.format(request_id=rid), "request_id": rid}
            headers = {REQUEST_ID_HEADER: rid, "Cache-Control": "no-store"}
            await JSONResponse(body, status_code=500, headers=headers)(scope, receive, send)
