"""Bad upload files made at test time: wrong types, broken images, bombs, photos with no usable page.

Each function returns the bytes of one file. Photos of template pages come from tests.simulator, so nothing
large is kept in git.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
from PIL import Image

from tests.simulator import simulate

# --- small helpers


def image_bytes(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def wall_photo(size: tuple[int, int] = (1600, 1200)) -> Image.Image:
    """A plausible phone photo with no page in it: a noisy beige gradient."""
    rng = np.random.default_rng(7)
    ramp = np.linspace(150, 210, size[0], dtype=np.float32)[None, :, None]
    pixels = ramp + rng.normal(0, 6, (size[1], size[0], 3)).astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int, idat: bytes = b"") -> bytes:
    """A grayscale PNG whose header (valid CRC) claims width x height, with `idat` as its compressed data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


# --- wrong types


def text_file() -> bytes:
    return "내 손글씨 메모\nthis is a text file, renamed to .jpg\n".encode() * 20


def svg_with_script() -> bytes:
    return (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
        b"<script>alert(document.cookie)</script><rect width='100' height='100'/></svg>"
    )


def html_page() -> bytes:
    return b"<!doctype html><html><body><script>fetch('/api/fonts')</script>hello</body></html>"


def zip_file() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("page1.jpg", b"\xff\xd8\xff" + b"\0" * 100)
    return buffer.getvalue()


def pdf_file() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def gif() -> bytes:
    return image_bytes(wall_photo((640, 480)).convert("P"), "GIF")


def animated_gif() -> bytes:
    frames = [Image.new("P", (64, 64), i * 40) for i in range(4)]
    return image_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def bmp() -> bytes:
    return image_bytes(wall_photo((640, 480)), "BMP")


def tiff() -> bytes:
    return image_bytes(wall_photo((640, 480)), "TIFF")


def webp() -> bytes:
    return image_bytes(wall_photo((640, 480)), "WEBP")


def heic_garbage() -> bytes:
    """Only the ISO-BMFF header of an iPhone HEIC photo, then garbage."""
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(range(256)) * 4


# --- broken or hostile images


def truncated_jpeg(photo: bytes) -> bytes:
    """The first half of a real photo: an upload cut short."""
    return photo[: len(photo) // 2]


def png_with_corrupt_body() -> bytes:
    """A valid PNG header (1600 x 1200) whose compressed pixel data is garbage."""
    return png_claiming(1600, 1200, idat=b"\x78\x9c" + bytes(range(256)) * 8)


def png_bomb(side: int = 12_000) -> bytes:
    """A decompression bomb: `side` x `side` grayscale zeros (144 MB decoded) in ~140 kB of PNG."""
    row = b"\0" * (side + 1)  # filter byte + pixels
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return png_claiming(side, side, idat)


def jpeg_claiming(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header is edited to claim width x height."""
    data = bytearray(image_bytes(Image.new("L", (16, 16), 255), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def huge_file(megabytes: int = 100) -> bytes:
    """A 'JPEG' of `megabytes` MB: a JPEG signature and zeros."""
    return b"\xff\xd8\xff\xe0" + b"\0" * (megabytes * 1024 * 1024)


def one_pixel() -> bytes:
    return image_bytes(Image.new("RGB", (1, 1), "white"), "PNG")


def small_jpeg() -> bytes:
    """A 400 x 300 thumbnail: too few pixels to read a page from."""
    return image_bytes(wall_photo((400, 300)), "JPEG")


def png_16_bit() -> bytes:
    ramp = np.tile(np.linspace(0, 65535, 1600, dtype=np.uint16), (1200, 1))
    return image_bytes(Image.fromarray(ramp), "PNG")


def cmyk_jpeg() -> bytes:
    return image_bytes(wall_photo().convert("CMYK"), "JPEG")


def photo_without_template() -> bytes:
    return image_bytes(wall_photo(), "JPEG", quality=90)


# --- photos of pages that cannot be used


def other_template_version() -> bytes:
    """Page 2 printed from template version v0 (its corner squares carry v0's marker ids)."""
    return simulate(2, seed=11, marker_version="v0").jpeg


def blank_page() -> bytes:
    """Page 1 photographed before anything was written on it."""
    return simulate(1, seed=12, empty=1.0).jpeg


def blurry_page() -> bytes:
    return simulate(1, seed=13, blur=4.0).jpeg
