"""The processes of one command attempt: found by the mark they carry, and ended as a whole.

Every command runs in a session of its own with DRO_ATTEMPT_ID in its environment,
which what it starts inherits. A runner killed by SIGKILL cannot take its commands
with it, so they run on; the next runner, before it sends the in-doubt attempt again,
finds every process that carries the attempt's mark, the rest of their sessions and
every descendant of all of those, and ends them: SIGTERM, then SIGKILL after a grace
period. A timeout ends the tree the same way, a child that left the session with
setsid() included, and one started without the mark (`env -i setsid ...`) while its
parent lives. A process that both dropped the mark and lost its parent (a daemon's
double fork) is beyond finding: nothing records whose it was.

The processes are found through /proc (Linux). A process is signalled through a pidfd
opened after it was found and checked again, so a pid that a new process took in the
meantime is never signalled. Without /proc nothing is found, and only a timeout's
process group is ended (killpg).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

MARK = "DRO_ATTEMPT_ID"
GRACE_SECONDS = 5.0  # between SIGTERM and SIGKILL, when a restart ends what a dead runner left
KILL_WAIT_SECONDS = 5.0  # for SIGKILL to take effect (a process in uninterruptible sleep may not)
_PROC = "/proc"


@dataclass(frozen=True)
class Found:
    pid: int
    parent: int
    session: int
    started: int  # clock ticks after boot (/proc/<pid>/stat field 22): with the pid, names the process


def attempt_processes(attempt_id: str, leader: int | None = None) -> list[Found]:
    """The live processes that carry `attempt_id`, with every other member of their sessions (and of
    `leader`'s, the session of a command this runner started), and the descendants of them all."""
    needle = f"{MARK}={attempt_id}".encode()
    every = list(_processes())
    marked = [found for found in every if _environ_has(found.pid, needle)]
    sessions = {found.pid for found in marked if found.session == found.pid}  # the command itself leads one
    if leader is not None:
        sessions.add(leader)
    chosen = {found.pid: found for found in marked}
    chosen.update({found.pid: found for found in every if found.session in sessions})
    children: dict[int, list[Found]] = {}
    for found in every:
        children.setdefault(found.parent, []).append(found)
    below = list(chosen)
    while below:
        for child in children.get(below.pop(), ()):
            if child.pid not in chosen:
                chosen[child.pid] = child
                below.append(child.pid)
    chosen.pop(os.getpid(), None)
    return sorted(chosen.values(), key=lambda found: found.pid)


def end(processes: Iterable[Found], grace: float = GRACE_SECONDS) -> list[int]:
    """End `processes`: SIGTERM, SIGKILL to those still there after `grace` seconds (at once when 0).
    The pids of those that outlived even SIGKILL for KILL_WAIT_SECONDS."""
    handles = dict(_opened(processes))
    try:
        if grace > 0:
            _signal(handles, signal.SIGTERM)
            _wait(handles, grace)
        _signal(handles, signal.SIGKILL)
        _wait(handles, KILL_WAIT_SECONDS)
        return sorted(pid for pid, fd in handles.items() if not _exited(fd))
    finally:
        for fd in handles.values():
            os.close(fd)


def _processes() -> Iterator[Found]:
    try:
        names = os.listdir(_PROC)
    except OSError:
        return  # no /proc: nothing can be found
    for name in names:
        if name.isdigit():
            found = _stat(int(name))
            if found is not None:
                yield found


def _stat(pid: int) -> Found | None:
    try:
        with open(f"{_PROC}/{pid}/stat", "rb") as stat:
            text = stat.read()
    except OSError:
        return None
    fields = text[text.rfind(b")") + 2:].split()  # after "pid (comm) ": the name may hold spaces and ')'
    if len(fields) < 20 or fields[0] == b"Z":  # a zombie has exited already
        return None
    return Found(pid, int(fields[1]), int(fields[3]), int(fields[19]))


def _environ_has(pid: int, needle: bytes) -> bool:
    try:
        with open(f"{_PROC}/{pid}/environ", "rb") as environ:
            return needle in environ.read().split(b"\0")
    except OSError:  # gone, or another user's
        return False


def _opened(processes: Iterable[Found]) -> Iterator[tuple[int, int]]:
    """(pid, pidfd) for each process that is still the one found (same start time)."""
    for found in processes:
        try:
            fd = os.pidfd_open(found.pid)
        except (ProcessLookupError, AttributeError, OSError):
            continue  # gone; or no pidfds here (not Linux 5.3+): not signalled rather than risk another process
        now = _stat(found.pid)
        if now is None or now.started != found.started:
            os.close(fd)  # exited, or its pid was taken by another process before the pidfd pinned it
            continue
        yield found.pid, fd


def _signal(handles: dict[int, int], number: signal.Signals) -> None:
    for fd in handles.values():
        with contextlib.suppress(ProcessLookupError, OSError):
            signal.pidfd_send_signal(fd, number)


def _wait(handles: dict[int, int], seconds: float) -> None:
    """Until every process has exited (its pidfd turns readable) or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    waiting = [fd for fd in handles.values() if not _exited(fd)]
    while waiting:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        poller = select.poll()
        for fd in waiting:
            poller.register(fd, select.POLLIN)
        poller.poll(left * 1000)
        waiting = [fd for fd in waiting if not _exited(fd)]


def _exited(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))
