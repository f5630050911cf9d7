"""Packaging: a directory of glyph bitmaps -> an installable font (trace, place, build tables)."""
