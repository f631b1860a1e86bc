"""Shared fixtures."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from browser import Browser

sys.path.insert(0, str(Path(__file__).resolve().parent))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium, the tests marked `browser` skip, with one reason that says how to install it;
    where $CI is set they run, and fail (tests/browser.py), so CI never passes without them."""
    from browser import find_chromium, in_ci, skip_reason

    browser_tests = [item for item in items if item.get_closest_marker("browser")]
    if not browser_tests or in_ci() or find_chromium():
        return
    skip = pytest.mark.skip(reason=skip_reason())
    for item in browser_tests:
        item.add_marker(skip)


@pytest.fixture
def catalog_dir(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write files into a fresh catalog directory: catalog_dir({"a.dro": "..."})."""

    def make(files: dict[str, str | bytes]) -> Path:
        for name, content in files.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return tmp_path

    return make


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    """A headless Chromium for the test, which fails if the page logs an error or throws (modules that
    look at a page's errors themselves define their own)."""
    from browser import Browser

    with Browser(log=tmp_path / "chromium.log") as opened:
        yield opened
        assert opened.console_errors == []
        assert opened.exceptions == []
