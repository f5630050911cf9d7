"""Reliability tests: bad inputs, load, security and faults (issue #7; docs/RELIABILITY.md)."""
