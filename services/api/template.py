"""The template as the API sees it: which cell is on which page, and the printable PDF (made once, cached)."""

from __future__ import annotations

import functools
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from services.api.contract import errors
from services.api.deps import StoreDep
from services.storage import ArtifactNotFound, ArtifactStore, template_key


@dataclass(frozen=True)
class TemplateCell:
    char: str
    codepoint: int
    page: int
    script: str  # "hangul" | "latin"


@dataclass(frozen=True)
class TemplateIndex:
    version: str
    pages: int
    cells: dict[int, TemplateCell]  # by codepoint, in template order

    def script(self, name: str) -> list[TemplateCell]:
        return [c for c in self.cells.values() if c.script == name]


@functools.cache
def template_index() -> TemplateIndex:
    from templates.layout import build_layout

    layout = build_layout()
    cells = {
        cell.codepoint: TemplateCell(cell.char, cell.codepoint, page.page, cell.script)
        for page in layout.pages
        for cell in page.cells
    }
    return TemplateIndex(layout.template_version, len(layout.pages), cells)


_TEMPLATE_LOCK = threading.Lock()


def template_pdf(store: ArtifactStore) -> bytes:
    """The printable template PDF, rendered into the store on first use."""
    key = template_key(template_index().version)
    try:
        return store.get(key)
    except ArtifactNotFound:
        pass
    with _TEMPLATE_LOCK:
        if not store.exists(key):
            from templates.render import write_template

            with tempfile.TemporaryDirectory(prefix="geulssi-template-") as tmp:
                write_template(tmp)
                store.put(key, (Path(tmp) / "template.pdf").read_bytes())
    return store.get(key)


router = APIRouter(tags=["template"])


@router.get(
    "/api/template.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "the template to print (A4)"},
        **errors(507),
    },
    summary="Download the printable template",
)
async def get_template(store: StoreDep) -> Response:
    data = await run_in_threadpool(template_pdf, store)
    return Response(
        data,
        media_type="application/pdf",
        headers={
            "Content-Disposition": 'attachment; filename="geulssi-template.pdf"',
            "Cache-Control": "public, max-age=86400",
        },
    )
