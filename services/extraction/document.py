"""One uploaded file -> the grayscale page images in it: a photo gives one, a PDF one per page."""

from __future__ import annotations

import numpy as np

from services.extraction.pdf import is_pdf, render_pdf
from services.extraction.photo import PhotoError, decode_photo


def decode_document(data: bytes) -> list[np.ndarray]:
    """Decode a photo or a PDF into one upright (H, W) uint8 luminance array per page (a photo: one).

    Raises PhotoError (from decode_photo or render_pdf) with the reason when the file cannot be read.
    """
    if is_pdf(data):
        return render_pdf(data)
    return [decode_photo(data)]


def decode_single(data: bytes) -> np.ndarray:
    """The one page image of a photo or a one-page PDF; PhotoError for a PDF of several pages."""
    pages = decode_document(data)
    if len(pages) > 1:
        raise PhotoError(f"the PDF has {len(pages)} pages; read them all with extract_file")
    return pages[0]
