"""Random ids: URL-safe, the asked length, and never read as a command-line option."""

from __future__ import annotations

import secrets

import pytest

from services.db import queries


def test_an_id_that_would_start_with_a_dash_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter(["-startsWithDash1", "_fine_to_use_000"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda nbytes: next(draws))
    assert queries.new_id() == "_fine_to_use_000"


def test_ids_are_url_safe_and_sixteen_characters_for_twelve_bytes() -> None:
    ids = [queries.new_id() for _ in range(2000)]
    assert all(len(i) == 16 for i in ids)
    assert all(set(i) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") for i in ids)
    # 2000 draws of the plain token would start with "-" about 31 times.
    assert not any(i.startswith("-") for i in ids)
    assert len(set(ids)) == len(ids)
