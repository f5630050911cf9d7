"""Decoding uploaded photo bytes: what is refused (with a readable reason), how EXIF rotation is honoured."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from services.extraction.photo import MAX_PIXELS, PhotoError, decode_photo


def _jpeg(array: np.ndarray, **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=90, **save)
    return buffer.getvalue()


def _gradient(width: int = 800, height: int = 600) -> np.ndarray:
    """An RGB image whose left half is dark and right half light, so orientation is visible."""
    image = np.full((height, width, 3), 230, np.uint8)
    image[:, : width // 2] = 30
    image[: height // 4] = (200, 40, 40)  # a red band along the top
    return image


def test_decodes_a_jpeg_to_grayscale_of_the_same_size() -> None:
    gray = decode_photo(_jpeg(_gradient()))
    assert gray.shape == (600, 800)
    assert gray.dtype == np.uint8
    assert gray[400, 100] < 60 and gray[400, 700] > 200


def test_decodes_png_and_palette_images() -> None:
    buffer = io.BytesIO()
    Image.fromarray(_gradient()).convert("P").save(buffer, "PNG")
    gray = decode_photo(buffer.getvalue())
    assert gray.shape == (600, 800)
    assert gray[400, 100] < 60 and gray[400, 700] > 200


@pytest.mark.parametrize(("orientation", "turn"), [(3, Image.Transpose.ROTATE_180),
                                                   (6, Image.Transpose.ROTATE_90),
                                                   (8, Image.Transpose.ROTATE_270)])
def test_exif_orientation_turns_the_pixels_upright(orientation: int, turn: Image.Transpose) -> None:
    upright = _gradient()
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = np.asarray(Image.fromarray(upright).transpose(turn))
    gray = decode_photo(_jpeg(stored, exif=exif.tobytes()))
    expected = np.asarray(Image.fromarray(upright).convert("L")).astype(int)
    assert gray.shape == expected.shape
    assert np.abs(gray.astype(int) - expected).mean() < 3


def test_empty_bytes_are_refused() -> None:
    with pytest.raises(PhotoError, match="empty"):
        decode_photo(b"")


def test_text_is_not_an_image() -> None:
    with pytest.raises(PhotoError, match="not an image"):
        decode_photo(b"this is a shopping list, not a photo\n" * 20)


def test_truncated_jpeg_is_refused_as_truncated() -> None:
    rng = np.random.default_rng(0)
    data = _jpeg(rng.integers(0, 255, (600, 800, 3), dtype=np.uint8))
    with pytest.raises(PhotoError, match="truncated"):
        decode_photo(data[: len(data) * 6 // 10])


def test_huge_image_is_refused_from_its_header() -> None:
    # A 1-bit 8000x7000 PNG of zeros is tiny on disk but 56 megapixels: a decompression bomb in miniature.
    buffer = io.BytesIO()
    Image.new("1", (8000, 7000)).save(buffer, "PNG")
    assert MAX_PIXELS < 8000 * 7000
    with pytest.raises(PhotoError, match="megapixels"):
        decode_photo(buffer.getvalue())


def test_tiny_image_is_refused() -> None:
    with pytest.raises(PhotoError, match="only 200x150"):
        decode_photo(_jpeg(_gradient(200, 150)))


def test_photo_error_is_a_value_error() -> None:
    assert issubclass(PhotoError, ValueError)  # the CLI and the API map ValueError to a clean refusal
