"""The OpenAPI document tells the truth: every status a route can answer is listed, with the body it sends.

Statuses come from three places, so a route added later is documented without extra work:
- the route's own `responses=` (use `errors(409, 415)` for the shared error body);
- its dependencies: a dependency marked `@implies({401: "...", 404: "..."})` adds those wherever it is used
  (the font token, the operator token, the database session, the artifact store);
- the request itself: parameters or a body can fail validation (422, our `{"detail": sentence}` rather than
  FastAPI's list), a body can be too large (413) or unreadable (400), and anything can fail unexpectedly
  (500 with a request id).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from services.api.schemas import ErrorMessage, ServerError

F = TypeVar("F", bound=Callable[..., Any])
ErrorStatuses = dict[int, str]

DESCRIPTIONS: ErrorStatuses = {
    400: "the body could not be read: damaged, cut short, not UTF-8, or a multipart form without a boundary",
    401: "no token, or not sent as Authorization: Bearer <token>",
    403: "the token is not the operator token",
    404: "not found (for a font: unknown id, or a token that is not its token)",
    409: "the request conflicts with the current state",
    413: "the request body (or a photo in it) is too large",
    415: "not a photo or scan we read (JPEG, PNG, HEIC/HEIF or PDF)",
    422: "a parameter or the body is not valid; the detail names it and says what to send",
    500: "an unexpected error on our side; the answer carries a request id to quote",
    503: "unavailable for now; try again later",
    507: "the server has no room left to store files; nothing was saved",
}
_IMPLIED: dict[Callable[..., Any], ErrorStatuses] = {}
_VALIDATION_REF = "#/components/schemas/HTTPValidationError"


def errors(*statuses: int, descriptions: ErrorStatuses | None = None) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries answering `{"detail": sentence}` for each status (described by `descriptions`)."""
    described = descriptions or {}
    return {
        s: {"model": ErrorMessage, "description": described.get(s, DESCRIPTIONS.get(s, "refused"))}
        for s in (*statuses, *described)
    }


def implies(statuses: ErrorStatuses) -> Callable[[F], F]:
    """Mark a dependency: every route using it may answer these statuses (documented automatically)."""

    def mark(dependency: F) -> F:
        _IMPLIED[dependency] = statuses
        return dependency

    return mark


def api_routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    """(path, method, route) of every API route, those of included routers too (FastAPI >= 0.120 keeps
    an included router whole, with its prefix on the side)."""

    def walk(items: Iterable[object], prefix: str) -> Iterator[tuple[str, str, APIRoute]]:
        for route in items:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                context_prefix = getattr(getattr(route, "include_context", None), "prefix", "") or ""
                yield from walk(inner.routes, prefix + context_prefix)
            elif isinstance(route, APIRoute):
                methods = sorted(route.methods or ())
                yield from ((prefix + route.path, m, route) for m in methods if m != "HEAD")

    yield from walk(app.routes, "")


def _dependency_calls(route: APIRoute) -> list[Callable[..., Any]]:
    found, stack = [], [route.dependant]
    while stack:
        dependant = stack.pop()
        if dependant.call is not None:
            found.append(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def implied_statuses(route: APIRoute, operation: dict[str, Any]) -> ErrorStatuses:
    """Every error status the route can answer besides its own `responses=`, with why."""
    reasons: dict[int, list[str]] = {500: [DESCRIPTIONS[500]]}
    for call in _dependency_calls(route):
        for status, why in _IMPLIED.get(call, {}).items():
            reasons.setdefault(status, []).append(why)
    body = operation.get("requestBody")
    if operation.get("parameters") or body:
        reasons.setdefault(422, []).append(DESCRIPTIONS[422])
    if body:
        reasons.setdefault(400, []).append(DESCRIPTIONS[400])
    reasons.setdefault(413, []).append(DESCRIPTIONS[413])  # BodySizeLimit answers on every route
    return {status: "; or ".join(dict.fromkeys(why)) for status, why in reasons.items()}


def _error_body(description: str, model: str = "ErrorMessage") -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{model}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def documented_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with every implied status added and 422 showing the body really sent."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for shape in (ErrorMessage, ServerError):
        schemas.setdefault(
            shape.__name__, shape.model_json_schema(ref_template="#/components/schemas/{model}")
        )
    for path, method, route in api_routes(app):
        operation = document.get("paths", {}).get(path, {}).get(method.lower())
        if operation is None:  # include_in_schema=False
            continue
        responses = operation.setdefault("responses", {})
        for status, why in sorted(implied_statuses(route, operation).items()):
            model = "ServerError" if status == 500 else "ErrorMessage"
            if str(status) not in responses or _VALIDATION_REF in json.dumps(responses[str(status)]):
                responses[str(status)] = _error_body(why, model)
    if _VALIDATION_REF not in json.dumps(document["paths"]):  # no route promises FastAPI's list any more
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
    app.openapi_schema = document
    return document
