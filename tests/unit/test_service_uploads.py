"""Upload checks that need no database: file type sniffing and the pixel limit read from the header."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from services.api.uploads import UploadError, check_pixels, png_bytes, size_text, sniff_type


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header (with a valid CRC) claims width x height; no pixel data needs to exist for that."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", b"")


def jpeg(width: int = 64, height: int = 48) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, "JPEG")
    return buffer.getvalue()


def test_jpeg_and_png_are_accepted_with_their_suffix() -> None:
    assert sniff_type(jpeg(), "a.jpg") == ".jpg"
    assert sniff_type(png_bytes(np.zeros((4, 4), np.uint8)), "a.png") == ".png"


def test_the_name_does_not_decide_the_type() -> None:
    assert sniff_type(jpeg(), "photo.png") == ".jpg"
    with pytest.raises(UploadError, match="only JPEG and PNG") as caught:
        sniff_type(b"GIF89a....", "photo.jpg")
    assert caught.value.status_code == 415


@pytest.mark.parametrize("brand", [b"heic", b"mif1", b"heix"])
def test_heic_and_pdf_are_accepted_with_their_suffix(brand: bytes) -> None:
    assert sniff_type(b"\x00\x00\x00\x18ftyp" + brand + b"\x00" * 20, "IMG_0001.HEIC") == ".heic"
    assert sniff_type(b"%PDF-1.7\n...", "scan.pdf") == ".pdf"


def test_empty_file() -> None:
    with pytest.raises(UploadError, match="empty"):
        sniff_type(b"", "x.jpg")


def test_pixel_limit_is_read_from_the_header_only() -> None:
    check_pixels(png_claiming(4000, 3000), "ok.png", 50_000_000)
    with pytest.raises(UploadError, match="60 million pixels; at most 50 million") as caught:
        check_pixels(png_claiming(10_000, 6_000), "bomb.png", 50_000_000)
    assert caught.value.status_code == 413
    # Far past Pillow's own bomb limit: still our message, not Pillow's exception.
    with pytest.raises(UploadError, match="at most 50 million"):
        check_pixels(png_claiming(60_000, 60_000), "bigger.png", 50_000_000)


def test_unreadable_image_is_refused() -> None:
    with pytest.raises(UploadError, match="not a readable image"):
        check_pixels(b"\xff\xd8\xff" + b"\x00" * 50, "broken.jpg", 50_000_000)


def test_font_names_fit_the_font_name_table() -> None:
    from services.db.queries import MAX_FONT_NAME, clean_font_name
    from services.packaging.font_tables import MAX_NAME_LENGTH, check_family_name

    assert MAX_FONT_NAME == MAX_NAME_LENGTH
    longest = "글" * MAX_FONT_NAME
    assert check_family_name(clean_font_name(f"  {longest} ")) == longest
    with pytest.raises(ValueError, match="at most 63"):
        clean_font_name("가" * 64)
    with pytest.raises(ValueError, match="control characters"):
        clean_font_name("a\u200db")


def test_sizes_read_well() -> None:
    assert [size_text(n) for n in (200_000, 1_468_006, 25 * 1024 * 1024)] == ["195 kB", "1.4 MB", "25 MB"]
