"""Helpers for the browser journey tests: headless Chromium through Playwright, phone and desktop sizes."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHROMIUM

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextlib.contextmanager
def browser_page(viewport: Any, *, phone: bool) -> Iterator[Any]:
    """A fresh page in headless Chromium at `viewport` (a phone: touch, mobile user agent)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(
                viewport=viewport,
                is_mobile=phone,
                has_touch=phone,
                device_scale_factor=2 if phone else 1,
                locale="ko-KR",
            )
            page = context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()


def no_sideways_scroll(page: Any) -> None:
    """The page is never wider than the screen: nothing pans sideways."""
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
    )
    assert widths[0] <= widths[2] and widths[1] <= widths[2], f"scrollWidth/innerWidth {widths}"


def error_next_to(page: Any, error_id: str, control_selector: str, within: float = 220) -> str:
    """The error box `error_id` is shown, says something in Korean and English, and sits right below
    (within `within` CSS pixels of) the control it concerns. Returns its text."""
    box = page.locator(f"#{error_id}")
    box.wait_for(state="visible")
    text = box.inner_text()
    assert any("\uac00" <= ch <= "\ud7a3" for ch in text), f"no Korean in {text!r}"
    assert any("a" <= ch.lower() <= "z" for ch in text), f"no English in {text!r}"
    error_box = box.bounding_box()
    control = page.locator(control_selector).first.bounding_box()
    assert error_box is not None and control is not None
    gap = error_box["y"] - (control["y"] + control["height"])
    assert -5 <= gap <= within, f"{error_id} is {gap:.0f} px from {control_selector}"
    return str(text)


def shot(page: Any, name: str) -> None:
    """Save a phone screenshot for docs/screenshots (only when GEULSSI_SCREENSHOTS=1: the docs set)."""
    if os.environ.get("GEULSSI_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)
