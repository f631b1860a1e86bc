"""A file operation's OSError in words: the path, what is wrong with it, how to fix it, and the exit code.

Every place dro writes (`-o` files, the state directory, plan.json, the journal, the
lock) and reads state turns an OSError into one of these, so a missing directory or
a full disk is a located error, not an "internal error". Bad paths are bad usage
(exit 2); a full disk or a failing device is the work failing (exit 1).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from dro_cli.errors import EXIT_FAILED, EXIT_USAGE, DroError

DISK_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
DEVICE = frozenset({*DISK_FULL, errno.EIO, errno.EROFS, errno.EFBIG})  # errors about the disk, not the path


class NotRegularFile(OSError):
    """A state file (plan.json, journal.jsonl, a cache) that is a FIFO, a device or a socket: reading
    one could block for ever or never end (/dev/zero), so dro refuses it instead."""

    def __init__(self, path: str | os.PathLike[str], kind: str) -> None:
        super().__init__(errno.EINVAL, f"it is a {kind}, not a regular file", os.fspath(path))
        self.kind = kind


def path_error(error: OSError, path: str | os.PathLike[str] | None = None, action: str = "write",
               *, then: str | None = None, elsewhere: str | None = "choose another path") -> DroError:
    """`error`, met while trying to `action` `path`, as a DroError: "cannot write out/t.json: the
    directory out does not exist", with a hint: the fix, `elsewhere` (the alternative, None for a file
    whose place is not the user's choice), then `then` (what to do once it is fixed)."""
    where = Path(path if path is not None else error.filename or "")
    shown = f" {where}" if str(where) not in ("", ".") else ""
    number = error.errno
    code = EXIT_USAGE
    if number == errno.ENOENT:
        missing = _first_missing(where)
        if missing == where:
            what, fix = f"{where} does not exist", "check the spelling of the path"
        else:
            what, fix = f"the directory {missing} does not exist", f"create it first (mkdir -p {where.parent})"
    elif number == errno.ENOTDIR:
        blocker = _file_in_the_way(where)
        what = f"{blocker} is a file, not a directory" if blocker else "a part of the path is not a directory"
        fix = "move the file out of the way"
    elif isinstance(error, NotRegularFile):
        what, fix, code = f"{where} is a {error.kind}, not a regular file", "move it out of the way", EXIT_FAILED
        hint = fix + (f", or {elsewhere}" if elsewhere else "") + (f"; {then}" if then else "")
        return DroError(f"cannot {action}{shown}: {what}", code="DRO522", exit_code=code,
                        hint=f"{hint}; dro keeps the files of an order (plan.json, journal.jsonl, lock, snapshot.json, "
                             "digest.json) as regular files, so restore it from a backup")
    elif number == errno.EISDIR:
        what, fix = f"{where} is a directory, not a file", "move the directory out of the way"
    elif number in (errno.EACCES, errno.EPERM):
        what = "permission denied"
        if action == "write" and where.name:  # an atomic write makes a new file beside the old one
            fix = f"make {where.parent} writable (dro writes {where.name} by renaming a new file over it)"
        else:
            fix = f"check the permissions of {where.parent} and {where.name} (ls -ld)" if where.name \
                else "check the permissions"
    elif number == errno.EROFS:
        what, fix = "read-only file system", "mount it read-write"
    elif number in DISK_FULL:
        what = "disk full (no space left on device)" if number == errno.ENOSPC else "disk quota exceeded"
        fix, code = "free some space on that disk", EXIT_FAILED
    elif number == errno.ENAMETOOLONG:
        what, fix = "file name too long", "shorten it"
    elif number == errno.ELOOP:
        what, fix = "too many levels of symbolic links", "check the symbolic links on the path"
    else:
        what = (error.strerror or str(error)).lower()
        fix, code = "check the disk and the path, then try again", EXIT_FAILED
    hint = fix + (f", or {elsewhere}" if elsewhere else "") + (f"; {then}" if then else "")
    return DroError(f"cannot {action}{shown}: {what}", hint=hint, exit_code=code)


@contextlib.contextmanager
def about_path(path: str | os.PathLike[str], action: str = "write", *, then: str | None = None,
               elsewhere: str | None = "choose another path") -> Iterator[None]:
    """Turn an OSError raised inside the block into `path_error(error, path, action, ...)`."""
    try:
        yield
    except OSError as error:
        raise path_error(error, path, action, then=then, elsewhere=elsewhere) from None


def is_path_error(error: OSError) -> bool:
    """Whether an OSError that escaped to the command boundary is about a file (not, say, a clock)."""
    return error.filename is not None or error.errno in DEVICE


def _first_missing(path: Path) -> Path:
    """The first directory on `path` (or `path` itself) that does not exist."""
    for candidate in (*reversed(path.parents), path):
        if str(candidate) != "." and not os.path.lexists(candidate):
            return candidate
    return path


def _file_in_the_way(path: Path) -> Path | None:
    """The first part of `path` that exists but is not a directory."""
    for candidate in (*reversed(path.parents), path):
        if str(candidate) != "." and os.path.lexists(candidate) and not os.path.isdir(candidate):
            return candidate
    return None
