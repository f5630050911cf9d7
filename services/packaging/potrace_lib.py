"""Calls libpotrace directly (ctypes) to turn a boolean bitmap into potrace's curves, fast.

pypotrace (`import potrace`) links the same Debian libpotrace, but its `Bitmap` copies pixels one Python
index at a time: 11-35 ms for a 128-256 px glyph, i.e. minutes for 11,172 syllables, while potrace
itself needs well under a millisecond. Here the bitmap is packed with numpy and handed over whole.
If libpotrace cannot be loaded through ctypes, pypotrace is used instead (same curves, slower).

    >>> mask = np.zeros((20, 20), bool); mask[4:16, 4:16] = True
    >>> [len(c.tags) for c in trace_mask(mask)]
    [4]
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from dataclasses import dataclass

import numpy as np

CURVETO = 1  # segment tags, as in potracelib.h
CORNER = 2
_WORD_BITS = 64


@dataclass(frozen=True)
class Curve:
    """One closed potrace path: `tags[i]` is CURVETO or CORNER and `points[i]` its three control points.

    For a CURVETO segment the points are (c1, c2, end) of a cubic; for a CORNER they are (unused, vertex,
    end): two straight lines. The path starts at the end point of its last segment. `sign` is +1 for ink
    outlines and -1 for holes (potrace orients them oppositely).
    """

    tags: np.ndarray  # (n,) int32
    points: np.ndarray  # (n, 3, 2) float64, bitmap coordinates: x right, y = row index
    sign: int


class _DPoint(ctypes.Structure):
    _fields_ = (("x", ctypes.c_double), ("y", ctypes.c_double))


class _CurveS(ctypes.Structure):
    _fields_ = (("n", ctypes.c_int), ("tag", ctypes.POINTER(ctypes.c_int)), ("c", ctypes.POINTER(_DPoint)))


class _Path(ctypes.Structure):
    pass


_Path._fields_ = (
    ("area", ctypes.c_int),
    ("sign", ctypes.c_int),
    ("curve", _CurveS),
    ("next", ctypes.POINTER(_Path)),
    ("childlist", ctypes.POINTER(_Path)),
    ("sibling", ctypes.POINTER(_Path)),
    ("priv", ctypes.c_void_p),
)


class _Progress(ctypes.Structure):
    _fields_ = (
        ("callback", ctypes.c_void_p),
        ("data", ctypes.c_void_p),
        ("min", ctypes.c_double),
        ("max", ctypes.c_double),
        ("epsilon", ctypes.c_double),
    )


class _Param(ctypes.Structure):
    _fields_ = (
        ("turdsize", ctypes.c_int),
        ("turnpolicy", ctypes.c_int),
        ("alphamax", ctypes.c_double),
        ("opticurve", ctypes.c_int),
        ("opttolerance", ctypes.c_double),
        ("progress", _Progress),
    )


class _Bitmap(ctypes.Structure):
    _fields_ = (
        ("w", ctypes.c_int),
        ("h", ctypes.c_int),
        ("dy", ctypes.c_int),
        ("map", ctypes.POINTER(ctypes.c_ulong)),
    )


class _State(ctypes.Structure):
    _fields_ = (("status", ctypes.c_int), ("plist", ctypes.POINTER(_Path)), ("priv", ctypes.c_void_p))


@functools.cache
def _library() -> ctypes.CDLL | None:
    """Return libpotrace loaded through ctypes, or None where it cannot be found."""
    if ctypes.sizeof(ctypes.c_ulong) * 8 != _WORD_BITS:
        return None  # the packing below assumes potrace_word is 64 bits wide
    name = ctypes.util.find_library("potrace") or "libpotrace.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    lib.potrace_param_default.restype = ctypes.POINTER(_Param)
    lib.potrace_param_free.argtypes = (ctypes.POINTER(_Param),)
    lib.potrace_trace.restype = ctypes.POINTER(_State)
    lib.potrace_trace.argtypes = (ctypes.POINTER(_Param), ctypes.POINTER(_Bitmap))
    lib.potrace_state_free.argtypes = (ctypes.POINTER(_State),)
    return lib


def trace_mask(
    mask: np.ndarray,
    *,
    turdsize: int = 2,
    alphamax: float = 1.0,
    opticurve: bool = True,
    opttolerance: float = 0.2,
) -> list[Curve]:
    """Trace a 2-D boolean mask (True = ink) and return its closed curves in potrace's order.

    Parameters mean what they mean to potrace: paths enclosing fewer than `turdsize` pixels are dropped,
    `alphamax` trades corners for curves, `opttolerance` bounds the error of joining segments.
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2 or mask.size == 0:
        raise ValueError(f"potrace needs a non-empty 2-D mask, got shape {mask.shape}")
    lib = _library()
    if lib is None:
        return _trace_with_pypotrace(mask, turdsize, alphamax, opticurve, opttolerance)
    h, w = mask.shape
    words = -(-w // _WORD_BITS)
    # potrace wants each scanline as 64-bit words whose most significant bit is the leftmost pixel:
    # packbits gives MSB-first bytes, read as big-endian words and stored natively.
    padded = np.zeros((h, words * _WORD_BITS), dtype=bool)
    padded[:, :w] = mask
    packed = np.packbits(padded, axis=1).view(">u8").astype(np.uint64)
    packed = np.ascontiguousarray(packed)
    bitmap = _Bitmap(w, h, words, packed.ctypes.data_as(ctypes.POINTER(ctypes.c_ulong)))
    param = lib.potrace_param_default()
    if not param:
        raise MemoryError("libpotrace could not allocate its parameters")
    try:
        param.contents.turdsize = int(turdsize)
        param.contents.alphamax = float(alphamax)
        param.contents.opticurve = int(bool(opticurve))
        param.contents.opttolerance = float(opttolerance)
        state = lib.potrace_trace(param, ctypes.byref(bitmap))
    finally:
        lib.potrace_param_free(param)
    if not state:
        raise MemoryError("libpotrace failed to trace a bitmap")
    try:
        if state.contents.status != 0:
            raise RuntimeError("libpotrace returned an incomplete trace")
        return _read_paths(state.contents.plist)
    finally:
        lib.potrace_state_free(state)


def _read_paths(node: ctypes._Pointer[_Path]) -> list[Curve]:
    """Copy potrace's linked list of paths into numpy-backed Curves."""
    curves = []
    while node:
        path = node.contents
        n = path.curve.n
        tags = np.ctypeslib.as_array(path.curve.tag, shape=(n,)).astype(np.int32)
        raw = ctypes.cast(path.curve.c, ctypes.POINTER(ctypes.c_double))
        points = np.ctypeslib.as_array(raw, shape=(n * 6,)).reshape(n, 3, 2).copy()
        curves.append(Curve(tags, points, 1 if path.sign == ord("+") else -1))
        node = path.next
    return curves


def _trace_with_pypotrace(
    mask: np.ndarray, turdsize: int, alphamax: float, opticurve: bool, opttolerance: float
) -> list[Curve]:
    """Same as trace_mask through pypotrace (slow pixel copy); used when ctypes cannot load potrace."""
    import potrace

    path = potrace.Bitmap(mask).trace(
        turdsize=turdsize, alphamax=alphamax, opticurve=int(opticurve), opttolerance=opttolerance
    )
    # pypotrace exposes no sign; its tree alternates outline / hole by depth.
    depth = {}
    stack = [(c, 0) for c in path.curves_tree]
    while stack:
        curve, level = stack.pop()
        depth[id(curve)] = level
        stack.extend((child, level + 1) for child in curve.children)
    curves = []
    for curve in path.curves:
        segments = curve.segments
        tags = np.array([CORNER if s.is_corner else CURVETO for s in segments], dtype=np.int32)
        points = np.array(
            [((s.c, s.c, s.end_point) if s.is_corner else (s.c1, s.c2, s.end_point)) for s in segments],
            dtype=np.float64,
        )
        curves.append(Curve(tags, points, -1 if depth.get(id(curve), 0) % 2 else 1))
    return curves
