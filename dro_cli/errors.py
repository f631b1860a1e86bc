"""Errors that carry their exit code, raised once at the command boundary."""

from __future__ import annotations

import click

EXIT_OK = 0
EXIT_FAILED = 1  # the work failed: an invalid catalog, a step in fallout
EXIT_USAGE = 2  # bad usage or input
EXIT_DIFFERENCES = 3  # `dro diff`: the revisions plan differently (terraform's -detailed-exitcode)


class DroError(click.ClickException):
    """A user-facing error: `error[CODE]: message` and `help:` on stderr, then the exit code."""

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None,
                 exit_code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code
        self.hint = hint
        self.exit_code = exit_code  # type: ignore[misc]  # click declares it on the class

    def show(self, file: object = None) -> None:
        label = f"error[{self.code}]" if self.code else "error"
        click.echo(f"{label}: {self.message}", err=True)
        if self.hint:
            click.echo(f"  = help: {self.hint}", err=True)
