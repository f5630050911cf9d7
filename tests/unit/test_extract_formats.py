"""Formats people have: HEIC, PDF (one page or several), 16-bit, palette and transparent PNGs decode to the
same grayscale page as a JPEG would."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from services.extraction.document import decode_document, decode_single
from services.extraction.pdf import MAX_PDF_PAGES, RENDER_LONG_SIDE_PX, render_pdf
from services.extraction.photo import PhotoError, decode_photo, register_heif


def _scene(width: int = 800, height: int = 600) -> np.ndarray:
    """A grayscale image whose left half is dark and right half light, with a mid-grey band on top."""
    image = np.full((height, width), 230, np.uint8)
    image[:, : width // 2] = 30
    image[: height // 4] = 128
    return image


def _saved(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def test_a_16_bit_png_keeps_its_levels() -> None:
    # Pillow's own 16 -> 8 bit conversion clips everything above 255 to white: a filled page came out blank.
    deep = _scene().astype(np.uint16) * 257
    gray = decode_photo(_saved(Image.fromarray(deep), "PNG"))
    assert np.abs(gray.astype(int) - _scene()).max() <= 1


def test_transparent_png_is_put_on_white_paper() -> None:
    rgba = np.zeros((600, 800, 4), np.uint8)
    rgba[..., :3] = _scene()[..., None]
    rgba[..., 3] = 255
    rgba[:, 700:, 3] = 0  # a transparent strip reads as paper, not as black
    gray = decode_photo(_saved(Image.fromarray(rgba), "PNG"))
    assert gray[300, 750] == 255 and gray[300, 100] == 30 and gray[300, 600] == 230


def test_palette_png_with_transparency() -> None:
    image = Image.fromarray(_scene()).convert("P")
    gray = decode_photo(_saved(image, "PNG", transparency=0))
    assert gray.shape == (600, 800) and gray[300, 100] < 60 and gray[300, 700] > 200


def test_heic_decodes_like_the_jpeg() -> None:
    register_heif()
    heic = _saved(Image.fromarray(_scene()).convert("RGB"), "HEIF", quality=90)
    assert heic[4:8] == b"ftyp"
    gray = decode_photo(heic)
    assert gray.shape == (600, 800)
    assert np.abs(gray.astype(int) - _scene()).mean() < 3


def _pdf(pages: int) -> bytes:
    sheets = [Image.fromarray(np.roll(_scene(620, 877), 100 * i, axis=1)).convert("RGB")
              for i in range(pages)]
    return _saved(sheets[0], "PDF", save_all=True, append_images=sheets[1:], resolution=75.0)


def test_a_pdf_gives_one_image_per_page_at_template_resolution() -> None:
    images = decode_document(_pdf(3))
    assert len(images) == 3
    for index, gray in enumerate(images):
        assert max(gray.shape) == RENDER_LONG_SIDE_PX and gray.dtype == np.uint8
        expected = np.roll(_scene(620, 877), 100 * index, axis=1)
        small = np.asarray(Image.fromarray(gray).resize((620, 877), Image.Resampling.BOX))
        assert np.median(np.abs(small.astype(int) - expected)) <= 3
    assert len(decode_single(_pdf(1)).shape) == 2


def test_pdf_refusals_say_why() -> None:
    with pytest.raises(PhotoError, match="the PDF has 3 pages"):
        decode_single(_pdf(3))
    with pytest.raises(PhotoError, match="not an image"):
        decode_photo(_pdf(1))
    with pytest.raises(PhotoError, match=f"at most {MAX_PDF_PAGES}"):
        render_pdf(_pdf(MAX_PDF_PAGES + 1))
    with pytest.raises(PhotoError, match="the PDF cannot be opened"):
        render_pdf(b"%PDF-1.7\n" + bytes(range(256)) * 8)


def test_a_photo_is_one_document_page() -> None:
    pages = decode_document(_saved(Image.fromarray(_scene()), "JPEG", quality=95))
    assert len(pages) == 1 and pages[0].shape == (600, 800)
