"""Errors that carry their exit code: raised anywhere below the commands, shown once at the command boundary.

This module imports nothing, so that every layer, the engine included, can raise
them; `dro_cli.main` turns them into click's exit and `dro_cli.output.failure`
prints them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dsl.diagnostics import Diagnostic
    from dsl.sources import Sources

EXIT_OK = 0
EXIT_FAILED = 1  # the work failed: an invalid catalog, a step in fallout
EXIT_USAGE = 2  # bad usage or input
EXIT_DIFFERENCES = 3  # `dro diff`: the revisions plan differently (terraform's -detailed-exitcode)
EXIT_WAIT = 4  # `dro amend`: a `freeze_plan` step is in progress, so the amendment waits (--wait waits here)
EXIT_NO_TESTS = 5  # `dro test`: no case ran (`-k` selected none), as pytest exits


class DroError(Exception):
    """A user-facing error: `error[CODE]: message` and `help:` on stderr, then the exit code.

    `diagnostics` (with the `sources` they point into) say in detail what is wrong;
    they are printed before the error.
    """

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None,
                 exit_code: int = EXIT_FAILED, diagnostics: Sequence[Diagnostic] = (),
                 sources: Sources | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint
        self.exit_code = exit_code
        self.diagnostics = list(diagnostics)
        self.sources = sources
