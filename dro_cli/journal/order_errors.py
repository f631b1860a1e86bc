"""An exception met while working on one order, as that order's error: so that a scan across orders
reports the order and goes on, and a command on it says what failed instead of "internal error"."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from dro_cli.errors import EXIT_FAILED, DroError
from dro_cli.journal.path_errors import is_path_error, path_error


@contextlib.contextmanager
def about_order(order_id: str, doing: str = "read") -> Iterator[None]:
    """Inside, any exception but a DroError (a time past the year 9999, a plan.json changed by hand
    that the engine trips on) becomes that order's DroError, so that a scan across orders reports it
    and goes on, and a command on the order says what failed instead of "internal error".
    DRO_DEBUG=1 lets it through, with its traceback."""
    try:
        yield
    except DroError:
        raise
    except Exception as error:
        if os.environ.get("DRO_DEBUG"):
            raise
        raise order_failure(order_id, error, doing) from error


def debugging(error: Exception) -> bool:
    """Whether DRO_DEBUG=1 lets `error` through, with its traceback, out of a scan that catches it itself
    (as `about_order` would, without entering one 10,000 times); never a DroError, which says what is wrong."""
    return not isinstance(error, DroError) and bool(os.environ.get("DRO_DEBUG"))


def order_failure(order_id: str, error: Exception, doing: str = "read") -> DroError:
    """An exception met while reading, running or showing one order (`doing`), as that order's DroError."""
    if isinstance(error, DroError):
        return error
    if isinstance(error, OSError) and is_path_error(error):
        return path_error(error, action="read" if doing == "read" else "write", elsewhere=None)
    message, journaled = _FAILURES[doing]
    return DroError(f"{message.format(order_id)}: {type(error).__name__}: {error}", exit_code=EXIT_FAILED,
                    hint=f"{journaled.format(order_id)}its plan.json or journal holds something dro cannot handle "
                         f"(a time past the year 9999, a file changed by hand?); `dro verify {order_id}` checks "
                         "the journal, and DRO_DEBUG=1 shows where it failed")


_FAILURES = {  # doing -> (the message, what the journal holds)
    "read": ("order {} cannot be read", ""),
    "run": ("order {} stopped: dro could not work out what follows",
            "the journal is intact, with every record up to the failure; "),
    "show": ("the status of order {} cannot be shown", "what this command did is journaled (`dro log {}`); "),
}
