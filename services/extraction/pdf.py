"""Render the pages of a PDF (a scanner's file, often every template page in one) as grayscale images."""

from __future__ import annotations

import numpy as np

from services.extraction.photo import MAX_PIXELS, PhotoError

MAX_PDF_PAGES: int = 12  # the template has 3 pages; a few more allow for a blank or cover page
RENDER_LONG_SIDE_PX: int = 3508  # an A4 page at 300 dpi, the template's own resolution


def is_pdf(data: bytes) -> bool:
    """Whether the bytes look like a PDF file (the header may follow a little junk, as readers allow)."""
    return b"%PDF-" in data[:1024]


def render_pdf(data: bytes) -> list[np.ndarray]:
    """Every page of a PDF as an (H, W) uint8 luminance array, its long side RENDER_LONG_SIDE_PX pixels.

    Raises PhotoError for damaged or encrypted PDFs, PDFs without pages and PDFs of more than MAX_PDF_PAGES.
    """
    import pypdfium2 as pdfium  # loaded on first use: most uploads are photos

    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise PhotoError(f"the PDF cannot be opened ({exc}): export it again, without a password") from exc
    try:
        count = len(document)
        if count == 0:
            raise PhotoError("the PDF has no pages")
        if count > MAX_PDF_PAGES:
            raise PhotoError(f"the PDF has {count} pages; send at most {MAX_PDF_PAGES} (the template has 3)")
        images = []
        for index in range(count):
            page = document[index]
            try:
                width, height = page.get_size()  # points (1/72 inch)
                scale = RENDER_LONG_SIDE_PX / max(width, height, 1.0)
                if width * height * scale * scale > MAX_PIXELS:
                    scale = float(np.sqrt(MAX_PIXELS / (width * height)))
                bitmap = page.render(scale=scale, grayscale=True, fill_color=(255, 255, 255, 255))
                pixels = np.asarray(bitmap.to_numpy())
                plane = pixels.reshape(pixels.shape[0], pixels.shape[1], -1)[..., 0]
                images.append(np.ascontiguousarray(plane))
            except pdfium.PdfiumError as exc:
                raise PhotoError(f"page {index + 1} of the PDF cannot be drawn ({exc})") from exc
            finally:
                page.close()
        return images
    finally:
        document.close()
