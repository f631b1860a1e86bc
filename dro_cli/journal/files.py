"""Write files so that a crash or a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from dro_cli.journal.path_errors import about_path


def write_atomically(path: Path, text: str, *, durable: bool = True) -> None:
    """Write `text` to `path`: readers see the old file or the new one, and a crash loses neither.

    A temp file in the same directory is fsynced, renamed over `path`, and the directory
    fsynced so that the rename itself is durable. A cache that is checked before it is
    trusted need not be durable (`durable=False`: no fsync; a crash may lose it).
    """
    folder = path.parent if str(path.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(temp, _mode_for(path))  # mkstemp makes files private; keep the usual mode
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    if durable:
        fsync_directory(folder)


def write_file(path: Path, text: str, *, durable: bool = True, then: str | None = None,
               elsewhere: str | None = "choose another path") -> None:
    """`write_atomically`, with an OSError as a DroError that names the path and says what is wrong
    (no such directory, not a directory, permission denied, disk full, ...). Nothing is left half-written."""
    with about_path(path, "write", then=then, elsewhere=elsewhere):
        write_atomically(path, text, durable=durable)


def fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mode_for(path: Path) -> int:
    """The mode a file written at `path` should have: the old file's, else what the umask allows."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
