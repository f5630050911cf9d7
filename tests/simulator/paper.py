"""What the sheet itself does to a photo: a bent (non-flat) sheet seen in perspective, and a glare spot."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from templates.layout import DPI

MAP_STEP_PX = 8  # the bent sheet's photo -> page map is computed every this many photo pixels, then upscaled
Height = Callable[[np.ndarray, np.ndarray], np.ndarray]  # page x, y (px) -> lift towards the camera (px)


def sag_field(size: tuple[int, int], sag_mm: float, rng: np.random.Generator) -> Height:
    """A height function h(x, y) (page px, towards the camera) of a sheet sagging by up to `sag_mm`.

    An arch along a random direction (paper lifted off the table, curling from the printer) plus a weaker
    bow across it; the highest point is `sag_mm` above the flat plane through the corners.
    """
    width, height = size
    angle = rng.uniform(0, np.pi)
    across = rng.uniform(-0.4, 0.4)
    direction = np.array([np.cos(angle), np.sin(angle)])
    half = 0.5 * (abs(direction[0]) * width + abs(direction[1]) * height)
    half_across = 0.5 * (abs(direction[1]) * width + abs(direction[0]) * height)
    lift = sag_mm * DPI / 25.4 / (1.0 + abs(across))

    def height_at(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        u = ((x - width / 2) * direction[0] + (y - height / 2) * direction[1]) / half
        v = (-(x - width / 2) * direction[1] + (y - height / 2) * direction[0]) / half_across
        return lift * ((1.0 - np.clip(u, -1, 1) ** 2) + across * (1.0 - np.clip(v, -1, 1) ** 2))

    return height_at


def bent_map(homography: np.ndarray, eye: np.ndarray, page_size: tuple[int, int],
             photo_size: tuple[int, int],
             height_at: Height) -> tuple[np.ndarray, np.ndarray]:
    """For every photo pixel, the page point (page px) a bent sheet shows there: float32 maps x and y.

    A point lifted by h is seen where the flat sheet's point p + h / (eye_z - h) (p - eye_xy) would be
    (the line of sight through it meets the table there); that is inverted by fixed-point iteration.
    `eye` is the camera's position (page px, page centre at the origin, z towards the camera).
    """
    width, height = photo_size
    # Grid node i sits at photo pixel (i + 0.5) * step - 0.5, where cv2.resize puts it when upscaling.
    gx = (np.arange(-(-width // MAP_STEP_PX)) + 0.5) * MAP_STEP_PX - 0.5
    gy = (np.arange(-(-height // MAP_STEP_PX)) + 0.5) * MAP_STEP_PX - 0.5
    qx, qy = np.meshgrid(gx, gy)
    flat = cv2.perspectiveTransform(np.stack([qx, qy], -1).reshape(-1, 1, 2), np.linalg.inv(homography))
    flat = flat.reshape((*qx.shape, 2))
    centre = np.asarray(page_size, np.float64) / 2
    point = flat.copy()
    for _ in range(4):  # p = flat - h(p) / (eye_z - h(p)) (p - eye_xy), p measured from the page centre
        lift = height_at(point[..., 0], point[..., 1])
        relative = point - centre - eye[:2]
        point = flat - (lift / (eye[2] - lift))[..., None] * relative
    full = cv2.resize(point.astype(np.float32), (len(gx) * MAP_STEP_PX, len(gy) * MAP_STEP_PX),
                      interpolation=cv2.INTER_LINEAR)[:height, :width]
    return np.ascontiguousarray(full[..., 0]), np.ascontiguousarray(full[..., 1])


def add_glare(photo: np.ndarray, homography: np.ndarray, page_size: tuple[int, int], strength: float,
              rng: np.random.Generator) -> None:
    """Brighten a soft spot on the page towards burnt white, in place (a lamp or window reflected)."""
    spot = rng.uniform(0.25, 0.75, 2) * np.asarray(page_size)
    radius = rng.uniform(0.06, 0.12) * page_size[0]
    ring = np.array([[spot[0] + radius * np.cos(a), spot[1] + radius * np.sin(a)]
                     for a in np.linspace(0, 2 * np.pi, 32, endpoint=False)])
    outline = cv2.perspectiveTransform(ring.reshape(-1, 1, 2), homography).reshape(-1, 2)
    drawn = np.zeros(photo.shape[:2], np.float32)
    cv2.fillPoly(drawn, [np.round(outline).astype(np.int32)], 1.0, cv2.LINE_AA)
    soft = max(2.0, float(np.ptp(outline[:, 0])) / 6)
    mask = cv2.GaussianBlur(drawn, (0, 0), soft)
    weight = strength * (mask[..., None] if photo.ndim == 3 else mask)
    photo += weight * (300.0 - photo)
