"""Turn uploaded photo bytes (JPEG, PNG of any depth, WebP, HEIC/HEIF) into an upright grayscale array,
refusing what is not a readable, sane image."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

# Phones top out near 50 MP; anything larger is refused before its pixels are decoded (decompression bombs).
MAX_PIXELS: int = 50_000_000
# A template page needs some pixels to be readable: below this the markers are a few pixels wide.
MIN_SIDE_PX: int = 480
EXIF_ORIENTATION = 0x0112


class PhotoError(ValueError):
    """A photo that cannot be read as a template page; the message says why in words a person understands."""


_heif_registered = False  # pillow-heif registered as a Pillow opener


def register_heif() -> None:
    """Let Pillow open HEIC/HEIF (iPhone photos) through pillow-heif, once."""
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True


def _luminance(image: Image.Image) -> np.ndarray:
    """(H, W) uint8 luminance of any Pillow mode: 16-bit scaled down (not clipped), transparency on white."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        values = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or values.max() > 255 else 255.0
        return np.clip(values * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
    if (image.mode in ("P", "PA") and "transparency" in image.info) or image.mode == "PA":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "La", "RGBa"):
        paper = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, image.convert("RGBA"))
    return np.asarray(image if image.mode == "L" else image.convert("L"))


def decode_photo(data: bytes) -> np.ndarray:
    """Decode image bytes (JPEG, PNG, WebP, HEIC, ...) into an (H, W) uint8 luminance array, turned upright by
    EXIF. PDFs are services.extraction.document's.

    Luminance rather than colour: JPEG stores it at full resolution (colour at half), so ink edges stay
    sharp, and blue or black pen and pencil are all dark in it. JPEGs are decoded straight to it (faster).

    Raises PhotoError for empty or non-image data, truncated files, images over MAX_PIXELS and tiny images.
    """
    if not data:
        raise PhotoError("the file is empty")
    register_heif()
    try:
        with warnings.catch_warnings():
            # Pillow warns (then errors at 2x) on huge images; we apply our own, lower limit below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise PhotoError(f"the image is far too large ({exc}); send a normal phone photo") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise PhotoError("not an image (or not a format we can read): send a JPEG, PNG or HEIC photo "
                         "or a PDF scan") from exc

    width, height = image.size  # read from the header, nothing decoded yet
    if width * height > MAX_PIXELS:
        raise PhotoError(
            f"the image is {width}x{height} ({width * height / 1e6:.0f} megapixels); "
            f"the limit is {MAX_PIXELS / 1e6:.0f} megapixels"
        )
    if min(width, height) < MIN_SIDE_PX:
        raise PhotoError(
            f"the image is only {width}x{height} pixels; photograph the page at full camera resolution"
        )
    try:
        if image.format == "JPEG" and image.mode in ("RGB", "YCbCr", "L"):
            image.draft("L", image.size)  # decode the luma plane only; no colour conversion
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        # Pillow says "image file is truncated" (or a decoder error) for files cut short in transfer.
        raise PhotoError("the file is truncated or damaged (the upload or copy was cut short): "
                         "send it again") from exc

    upright: Image.Image = image
    try:
        # Phones store the pixels as the sensor saw them and say in EXIF how to turn them upright.
        if image.getexif().get(EXIF_ORIENTATION, 1) != 1:
            upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, KeyError, TypeError):
        pass  # a malformed EXIF block should not cost the user the photo; the markers fix orientation anyway
    return _luminance(upright)
