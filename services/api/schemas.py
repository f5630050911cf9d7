"""HTTP request and response shapes (pydantic), with the examples shown at /docs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# Numbers in request bodies are bounded before they reach the database (services/api/deps.py: paths).
Codepoint = Annotated[int, Field(ge=0, le=0x10FFFF, description="a Unicode code point")]

# The database keeps naive UTC; answers say so explicitly ("...+00:00") so browsers show local time.
UtcDatetime = Annotated[datetime, AfterValidator(lambda d: d if d.tzinfo else d.replace(tzinfo=UTC))]


class FontCreate(BaseModel):
    name: str = Field(min_length=1, max_length=63, description="the font's name, shown in font menus")

    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "내 손글씨"}]})


class FontCreated(BaseModel):
    id: str = Field(description="the font's public id")
    token: str = Field(
        description="the secret for every later call (Authorization: Bearer ...); shown only once"
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"id": "Zq3k1xWm9pQbT0aL", "token": "m1T9rS0yJ2-uY4dFq0c6XJ0b5tNqz1Vx3e8pL7aWc2Q"}]
        }
    )


class Cell(BaseModel):
    char: str
    codepoint: int
    page: int
    status: str = Field(
        description='"ok", or why the cell cannot be used ("empty", "overflow", "faint", ...)'
    )
    reason: str | None = Field(None, description="what to do about it, in words")


class PageReport(BaseModel):
    page: int = Field(description="template page number found in the photo")
    photo: str = Field(description="the uploaded file's name")
    cells_total: int
    cells_ok: int
    to_rewrite: list[Cell] = Field(description="cells to write again (and photograph again)")
    sheet_url: str = Field(description="contact sheet image of every cell as read")
    report: dict[str, Any] = Field(description="the extractor's full report")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "page": 1,
                    "photo": "IMG_2041.jpg",
                    "cells_total": 100,
                    "cells_ok": 98,
                    "to_rewrite": [
                        {
                            "char": "갃",
                            "codepoint": 44035,
                            "page": 1,
                            "status": "empty",
                            "reason": "the box is empty",
                        }
                    ],
                    "sheet_url": "/api/fonts/Zq3k1xWm9pQbT0aL/pages/1/sheet.png",
                    "report": {},
                }
            ]
        }
    )


class UploadResult(BaseModel):
    pages: list[PageReport]


class JobStatus(BaseModel):
    id: str
    state: str = Field(description="queued, running, succeeded, failed or cancelled")
    stage: str | None = Field(None, description="finetune, generate, trace, normalize or package")
    progress: float = Field(description="0..100 percent over the whole build")
    attempts: int
    stage_timings: dict[str, float] = Field(description="seconds spent in each stage")
    error: str | None = None
    created_at: UtcDatetime
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None


class PageSummary(BaseModel):
    page: int
    photo: str
    uploaded_at: UtcDatetime
    cells_total: int
    cells_ok: int
    sheet_url: str


class GlyphCounts(BaseModel):
    hangul_ok: int
    hangul_required: int
    latin_ok: int
    latin_total: int


class Downloads(BaseModel):
    ttf: str
    woff2: str
    preview: str


class FontStatus(BaseModel):
    id: str
    name: str
    created_at: UtcDatetime
    template_pages: int
    pages: list[PageSummary]
    glyphs: GlyphCounts
    ready_to_submit: bool = Field(description="every Hangul cell is usable")
    job: JobStatus | None = Field(None, description="the newest build job, if any")
    downloads: Downloads | None = Field(None, description="the newest finished font, if any")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "Zq3k1xWm9pQbT0aL",
                    "name": "내 손글씨",
                    "created_at": "2025-05-01T09:30:00",
                    "template_pages": 3,
                    "pages": [],
                    "glyphs": {"hangul_ok": 200, "hangul_required": 200, "latin_ok": 90, "latin_total": 94},
                    "ready_to_submit": True,
                    "job": {
                        "id": "c2Vx0aB7nQ1mZ5kP",
                        "state": "running",
                        "stage": "generate",
                        "progress": 67.5,
                        "attempts": 1,
                        "stage_timings": {"finetune": 412.0, "generate": 20.3},
                        "error": None,
                        "created_at": "2025-05-01T09:41:00",
                        "started_at": "2025-05-01T09:41:01",
                        "finished_at": None,
                    },
                    "downloads": None,
                }
            ]
        }
    )


class MissingCells(BaseModel):
    detail: str
    missing: list[Cell]


class SubmitResult(BaseModel):
    job: JobStatus
    created: bool = Field(description="false when the font already had an active job (that one is returned)")


class ErrorMessage(BaseModel):
    detail: str = Field(description="what went wrong, in words a person understands")

    model_config = ConfigDict(json_schema_extra={"examples": [{"detail": "no font with this id and token"}]})


class ServerError(BaseModel):
    detail: str = Field(description="an apology with the request id to quote when asking for help")
    request_id: str = Field(description="the same id as the X-Request-ID header and the server's log line")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "detail": "something went wrong on our side, not because of your request; please try "
                    "again in a minute, and if it keeps happening tell us the request id 3f9c2a7be01d4c55",
                    "request_id": "3f9c2a7be01d4c55",
                }
            ]
        }
    )
