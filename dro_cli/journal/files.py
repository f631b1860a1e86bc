"""Write files so that a crash or a reader never sees half of one."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import BinaryIO

from dro_cli.journal.path_errors import NotRegularFile, about_path

_KINDS = ((stat.S_ISFIFO, "named pipe (FIFO)"), (stat.S_ISCHR, "character device"),
          (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"))


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """`open(path, "rb")`, refusing (NotRegularFile) anything but a regular file, and without blocking
    on a FIFO while it is found out. Symbolic links are followed: to a regular file, they are fine."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):  # as open() says it: "X is a directory, not a file"
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(path))
        if not stat.S_ISREG(mode):
            raise NotRegularFile(path, next((kind for test, kind in _KINDS if test(mode)), "special file"))
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: str | os.PathLike[str]) -> bytes:
    """The bytes of a regular file (see `open_regular`)."""
    with open_regular(path) as handle:
        return handle.read()


def last_line(handle: BinaryIO, end: int, chunk: int) -> bytes:
    """The last line of the first `end` bytes of `handle`: from just after the newline before it (or
    the file's start) to `end`, its own newline included. Read backwards in growing chunks, so a
    journal's end is found without reading the journal."""
    while True:
        begin = max(0, end - chunk)
        handle.seek(begin)
        data = handle.read(end - begin)
        cut = data.rfind(b"\n", 0, len(data) - 1)
        if cut >= 0 or begin == 0:
            return data[cut + 1:]
        chunk *= 8


def write_atomically(path: Path, text: str, *, durable: bool = True) -> None:
    """Write `text` to `path`: readers see the old file or the new one, and a crash loses neither.

    A temp file in the same directory is fsynced, renamed over `path`, and the directory
    fsynced so that the rename itself is durable. A cache that is checked before it is
    trusted need not be durable (`durable=False`: no fsync; a crash may lose it).
    """
    folder = path.parent if str(path.parent) else Path(".")
    import tempfile  # here: random, which it needs, costs the start-up of every command that only reads

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
