"""Extraction: photos of filled-in template pages -> one glyph image per written character."""
