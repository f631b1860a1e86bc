"""One writer per order: an exclusive OS lock on the order's lock file, naming the holder's pid."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType

from dro_cli.errors import EXIT_USAGE, DroError
from dro_cli.journal.path_errors import about_path

LOCK_FILE = "lock"


class OrderLock:
    """An exclusive, non-blocking `flock` on `<order_dir>/lock`, as a context manager.

    The holder writes its pid into the file, and a second writer is refused with
    "order X is locked by pid N". The OS drops the lock when the holder's file is
    closed, so a holder that dies, even by SIGKILL, frees it; a stale pid left in
    the file is overwritten by the next holder. The descriptor is not inherited by
    processes the holder starts (close-on-exec), so a step's command cannot keep it.
    """

    def __init__(self, order_dir: Path) -> None:
        self.order_dir = order_dir
        self.path = order_dir / LOCK_FILE
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this OrderLock")
        with about_path(self.path, "lock", elsewhere=None, then="dro writes into the order's directory to work on it"):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise _locked(self.order_dir.name, holder) from None
        except BaseException:
            os.close(fd)
            raise
        with contextlib.suppress(OSError):  # the pid only names the holder to a refused writer (a full disk)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # while still locked: a refused writer never reads a pid that has gone
        finally:
            os.close(fd)  # closing the file releases the lock

    def __enter__(self) -> OrderLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.release()


def _holder(fd: int) -> int | None:
    """The pid the holder wrote into the lock file, if it has written one yet."""
    text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    return int(text) if text.isdigit() else None


class OrderLocked(DroError):
    """Another process holds the order's lock."""


def _locked(order_id: str, holder: int | None) -> DroError:
    who = f"pid {holder}" if holder is not None else "another process"
    return OrderLocked(
        f"order {order_id} is locked by {who}",
        hint=f"another dro is working on this order; wait for it to finish, or stop {who} if it is stuck",
        exit_code=EXIT_USAGE,
    )
