"""Colour decisions for the terminal: NO_COLOR wins, otherwise colour only on a terminal."""

from __future__ import annotations

import os


def use_color() -> bool | None:
    """False when NO_COLOR is set (non-empty, per no-color.org); None lets click decide by whether output is a tty."""
    return False if os.environ.get("NO_COLOR") else None


def color_stdout() -> bool:
    """Whether to colour what goes to stdout: a terminal, and NO_COLOR unset."""
    import sys

    return use_color() is not False and sys.stdout.isatty()
