"""Photograph a filled page like a phone: perspective, a bent sheet, lighting, shadow, glare, blur, noise,
JPEG, EXIF rotation."""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from templates.layout import Page
from tests.simulator.paper import add_glare, bent_map, sag_field


@dataclass(frozen=True)
class Camera:
    """How one photo is taken. Angles in degrees; None means "draw one from the seed"."""

    size: tuple[int, int] = (1200, 1600)  # (width, height) of the photo
    rotation: float | None = None  # in-plane turn of the page; 180 is upside down
    tilt: float | None = None  # angle between the camera axis and the page normal (perspective), <= ~35
    fill: float | None = None  # share of the frame's shorter fit the page takes
    light: float | None = None  # strength of the lighting gradient, 0 (even) .. 0.5
    shadow: float | None = None  # darkness of a soft shadow across the page, 0 (none) .. 0.6
    blur: float | None = None  # optical blur, Gaussian sigma in photo pixels
    noise: float | None = None  # sensor noise, sigma in 8-bit levels
    quality: int = 88  # JPEG quality
    hide_marker: int | tuple[int, ...] | None = None  # position index (or indices) of markers under a thumb
    shift: tuple[float, float] = (0.0, 0.0)  # page centred, then moved by this share of the frame (out of it)
    exif_orientation: int = 1  # 1 (none), 3, 6 or 8: pixels stored turned, EXIF tag says how to undo it
    bend: float = 0.0  # sag of the sheet in mm (0 = flat): a smooth arch, seen in the camera's perspective
    glare: float = 0.0  # strength of a bright reflection spot on the page, 0 (none) .. 1 (burnt white)


def _draw(rng: np.random.Generator, value: float | None, low: float, high: float) -> float:
    return float(rng.uniform(low, high)) if value is None else float(value)


def page_to_photo(page: Page, camera: Camera, rng: np.random.Generator) -> np.ndarray:
    """Return the 3x3 homography (page px -> photo px) of a pinhole camera looking at the page at an angle."""
    return _pose(page, camera, rng)[0]


def _pose(page: Page, camera: Camera, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The homography (page px -> photo px) and the camera's position (x, y, z in page px, z towards the
    camera, the page's centre at the origin): where a bent sheet's lifted points are seen from."""
    width, height = page.size_px
    rotation = _draw(rng, camera.rotation, -12, 12)
    tilt = np.radians(_draw(rng, camera.tilt, 0, 30))
    azimuth = rng.uniform(0, 2 * np.pi)
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float64)
    centred = corners - [width / 2, height / 2]
    # Tilt the page plane about an in-plane axis, then project with a camera 1.6 page heights away.
    axis = np.array([np.cos(azimuth), np.sin(azimuth), 0.0])
    rotvec = axis * tilt
    turn, _ = cv2.Rodrigues(rotvec)
    points3 = np.c_[centred, np.zeros(4)] @ turn.T
    distance = 1.6 * height
    projected = points3[:, :2] * distance / (distance + points3[:, 2:3])
    spin = np.radians(rotation)
    spin_matrix = np.array([[np.cos(spin), -np.sin(spin)], [np.sin(spin), np.cos(spin)]])
    projected = projected @ spin_matrix.T
    lo, hi = projected.min(axis=0), projected.max(axis=0)
    frame = np.asarray(camera.size, np.float64)
    fill = _draw(rng, camera.fill, 0.72, 0.92)
    scale = fill * np.min(frame / (hi - lo))
    placed = (projected - lo) * scale
    slack = frame - (hi - lo) * scale
    where = rng.uniform(0.2, 0.8, 2)
    if camera.shift != (0.0, 0.0):  # shifted from the centre of the frame, so the cut is predictable
        where = np.array([0.5, 0.5]) + frame * np.asarray(camera.shift) / np.maximum(slack, 1e-9)
    placed += slack * where
    homography = cv2.getPerspectiveTransform(corners.astype(np.float32), placed.astype(np.float32))
    # points3 = turn @ page point; the camera sits at (0, 0, -distance) in that frame.
    centre = turn.T @ np.array([0.0, 0.0, -distance])
    return homography, np.array([centre[0], centre[1], -centre[2]])


def _background(size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A table top: a dull colour with low-frequency blotches."""
    width, height = size
    colour = rng.uniform(40, 150, 3).astype(np.float32)
    blotches = cv2.resize(rng.normal(0, 18, (6, 8, 3)).astype(np.float32), (width, height),
                          interpolation=cv2.INTER_CUBIC)
    return blotches + colour


def _illumination(size: tuple[int, int], camera: Camera, rng: np.random.Generator) -> np.ndarray:
    """Per-pixel light level: a tinted gradient times a soft-edged shadow, computed small then upscaled."""
    width, height = size
    small = (max(8, width // 8), max(8, height // 8))
    ys, xs = np.mgrid[0:small[1], 0:small[0]].astype(np.float32)
    xs, ys = xs / small[0] - 0.5, ys / small[1] - 0.5
    direction = rng.uniform(0, 2 * np.pi)
    strength = _draw(rng, camera.light, 0.05, 0.4)
    level = 1.0 - strength * (0.5 + np.cos(direction) * xs + np.sin(direction) * ys)
    shadow = _draw(rng, camera.shadow, 0.0, 0.45)
    if shadow > 0:  # a straight-edged shadow (hand, phone) across part of the frame, soft edged
        angle = rng.uniform(0, 2 * np.pi)
        offset = rng.uniform(0.1, 0.35)
        side = np.cos(angle) * xs + np.sin(angle) * ys - offset
        soft = 1 / (1 + np.exp(-side / rng.uniform(0.01, 0.05)))
        level = level * (1 - shadow * soft)
    tint = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 1.0)], np.float32)  # warm indoor light
    light = level[..., None] * tint * rng.uniform(0.85, 1.0)
    return cv2.resize(light.astype(np.float32), size, interpolation=cv2.INTER_LINEAR)


def _thumb(photo: np.ndarray, page: Page, position: int, homography: np.ndarray,
           rng: np.random.Generator) -> None:
    """Cover the marker at `position` with a skin-coloured ellipse (a thumb holding the page by its edge).

    The thumb comes from the nearer page edge and stops short of the cells, so every cell stays readable.
    """
    corners = np.asarray(page.markers[position].corners, np.float64)
    centre = corners.mean(axis=0)
    half = (corners[:, 0].max() - corners[:, 0].min()) / 2
    outward = -1.0 if centre[1] < page.size_px[1] / 2 else 1.0
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    ellipse = np.c_[centre[0] + 1.5 * half * np.cos(angles),
                    centre[1] + outward * 0.5 * half + 1.8 * half * np.sin(angles)]
    outline = cv2.perspectiveTransform(ellipse.reshape(-1, 1, 2), homography).reshape(-1, 2)
    skin = tuple(float(v) for v in rng.uniform([170, 120, 100], [225, 170, 145]))
    cv2.fillPoly(photo, [np.round(outline).astype(np.int32)], skin, cv2.LINE_AA)


def photograph(image: np.ndarray, page: Page, camera: Camera,
               rng: np.random.Generator) -> tuple[bytes, np.ndarray]:
    """Return (JPEG bytes, homography page px -> upright photo px) of a 300-dpi page taken by `camera`."""
    homography, eye = _pose(page, camera, rng)
    size = camera.size
    # Shrink the page (area-averaging, as a sensor does) to a little above the photo's resolution first, so
    # the warp neither aliases nor spends time on pixels the camera cannot resolve.
    shrink = float(np.sqrt(abs(np.linalg.det(np.linalg.inv(homography[:2, :2])))))
    source, to_photo = image, homography
    if shrink > 1.5:
        scale = 1.25 / shrink
        source = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        # a small-image pixel u covers page pixel (u + 0.5) / scale - 0.5
        offset = 0.5 / scale - 0.5
        small_to_page = np.array([[1 / scale, 0, offset], [0, 1 / scale, offset], [0, 0, 1]])
        to_photo = homography @ small_to_page
    photo = _background(size, rng)
    if camera.bend > 0:  # a bent sheet: every photo pixel looked up through the sag, then in the source
        height_at = sag_field(page.size_px, camera.bend, rng)
        map_x, map_y = bent_map(homography, eye, page.size_px, size, height_at)
        page_to_source = np.linalg.inv(to_photo) @ homography
        map_x, map_y = (page_to_source[i, 0] * map_x + page_to_source[i, 1] * map_y + page_to_source[i, 2]
                        for i in (0, 1))
        cv2.remap(source.astype(np.float32), map_x.astype(np.float32), map_y.astype(np.float32),
                  cv2.INTER_LINEAR, dst=photo, borderMode=cv2.BORDER_TRANSPARENT)
    else:
        cv2.warpPerspective(source.astype(np.float32), to_photo, size, dst=photo, flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_TRANSPARENT)
    hidden = camera.hide_marker
    for position in (hidden,) if isinstance(hidden, int) else hidden or ():
        _thumb(photo, page, position, homography, rng)
    photo *= _illumination(size, camera, rng)
    if camera.glare > 0:
        add_glare(photo, homography, page.size_px, camera.glare, rng)
    blur = _draw(rng, camera.blur, 0.5, 1.1)
    if blur > 0:
        photo = cv2.GaussianBlur(photo, (0, 0), blur)
    noise = np.empty(photo.shape, np.float32)
    cv2.setRNGSeed(int(rng.integers(2**31)))  # cv2.randn is much faster than numpy; seed it from ours
    cv2.randn(noise, 0.0, _draw(rng, camera.noise, 1.0, 4.0))  # type: ignore[call-overload]
    photo += noise
    photo += 0.5
    np.clip(photo, 0, 255, out=photo)
    pixels = Image.fromarray(photo.astype(np.uint8))
    return _encode(pixels, camera), homography


def _encode(pixels: Image.Image, camera: Camera) -> bytes:
    """JPEG bytes; with an EXIF orientation the pixels are stored turned, so honouring the tag undoes it."""
    undo = {1: None, 3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_90,
            8: Image.Transpose.ROTATE_270}
    if camera.exif_orientation not in undo:
        raise ValueError(f"exif_orientation must be 1, 3, 6 or 8, got {camera.exif_orientation}")
    buffer = io.BytesIO()
    transpose = undo[camera.exif_orientation]
    if transpose is None:
        pixels.save(buffer, "JPEG", quality=camera.quality)
    else:
        exif = Image.Exif()
        exif[0x0112] = camera.exif_orientation
        pixels.transpose(transpose).save(buffer, "JPEG", quality=camera.quality, exif=exif.tobytes())
    return buffer.getvalue()
