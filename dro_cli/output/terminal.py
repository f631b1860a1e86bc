"""What the terminal gets: whether to colour (`--color`, FORCE_COLOR, NO_COLOR, a tty) and whether to be quiet (`-q`).

Both are settings of one command line: `dro_cli.main` sets them from the options
before the command runs, and everything that prints asks here.
"""

from __future__ import annotations

import os

COLOR_CHOICES = ("auto", "always", "never")
_settings = {"color": "auto", "quiet": False}


def configure(*, color: str | None = None, quiet: bool | None = None) -> None:
    """Set what the command line asked for; None leaves a setting as it is."""
    if color is not None:
        _settings["color"] = color
    if quiet is not None:
        _settings["quiet"] = quiet


def use_color() -> bool | None:
    """True: colour even into a pipe (`--color always`, or FORCE_COLOR set to anything but 0); False: never
    (`--color never`, or NO_COLOR set, per no-color.org); None lets click decide by whether output is a tty.
    `--color` wins over the variables, and FORCE_COLOR over NO_COLOR (as Node.js does)."""
    choice = _settings["color"]
    if choice != "auto":
        return choice == "always"
    if os.environ.get("FORCE_COLOR", "") not in ("", "0"):
        return True
    return False if os.environ.get("NO_COLOR") else None


def color_stdout() -> bool:
    """Whether to colour what goes to stdout: forced, or a terminal that colour is not turned off for."""
    import sys

    forced = use_color()
    return forced if forced is not None else sys.stdout.isatty()


def quiet() -> bool:
    """`-q`: say nothing but errors, warnings and the data asked for (exit codes tell the rest)."""
    return bool(_settings["quiet"])
