"""Every command against every kind of bad path it can be given: a missing directory, a file where a
directory belongs and a directory where a file belongs, no permission, a read-only file system, a
full disk. Each gets a located, documented error (docs/running.md, "Exit status"): the exit code,
stderr naming the path and what is wrong, never "internal error" or a traceback, and nothing
half-written. Commands that only read the state directory keep working where they cannot write:
the caches they leave (digest, snapshot) are only caches.

The commands come from `dro_cli.main.COMMANDS`: `test_every_command_is_covered` fails for a new
command until it is given its paths below, or listed as exempt with why.

Read-only and full file systems are small tmpfs mounts, made for the test and unmounted after; where
the machine does not allow mounting (not root, no mount), those cases skip and say why, in CI too.
"No permission" runs dro as a process without the capability to override file permissions when
the tests run as root (root reads and writes anything otherwise).
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from dro_cli.errors import DroError
from dro_cli.main import COMMANDS, cli

NOW = "2026-12-01T10:00:00Z"
LATER = "2026-12-01T12:00:00Z"  # the pause's timer is due: every command that continues the order journals much
BIG = "x" * 6000  # an act bigger than the free end of the journal's last page: it needs room on the disk

MILESTONES = "\n".join(
    f'  step m{i:02d} "Milestone {i:02d}, with a title long enough that one round fills pages" '
    "{ type milestone lane ops after timer }" for i in range(1, 41))
CATALOG = f'''lane ops "Operations"

group g {{
  step approve {{ type manual lane ops queue desk duration 1h jeopardy 30m }}
  step hold {{ type pause lane ops resume_on event "go" }}
  step timer {{ type pause lane ops resume_after 1h }}
  step broken {{ type auto lane ops command ["false"] }}
{MILESTONES}
}}

group extra {{
  step note {{ type manual lane ops queue desk scope line_item }}
}}

scenario s {{ when item.product == "P" add g }}
scenario t {{ when item.product == "EXTRA" add extra }}
'''
TESTS = "cases:\n  - name: plans\n    order: ../o.yaml\n    expect: {present: [approve]}\n"
ORDER = "order:\n  id: ORD-1\n  account: A\n  items:\n    - {id: I1, product: P}\n"
REVISED = ORDER + "    - {id: X1, product: EXTRA}\n"  # an amendment that adds a step

EXEMPT = {"schema": "it prints the schemas dro ships; it takes no path",
          "worker": "it runs steps for a Temporal cluster; it takes no path (tests/test_temporal.py)",
          "import": "a group: `dro import salesforce`'s paths are tested in tests/test_import_salesforce.py"}


@dataclass(frozen=True)
class Use:
    """One way to call a command with a path: `args` with {placeholders}; `role` says which path is bad."""

    command: str
    args: tuple[str, ...]
    role: str  # state (the state directory), output (-o), input (a file or directory it reads)
    does: str = ""  # state: read | scan (across orders) | write | sweep (writes across orders) | serve
    reads: str = ""  # input: catalog | order | tests
    exit_code: int = 2  # input: what a bad input exits with

    def __str__(self) -> str:
        return " ".join(self.args)


USES = [
    Use("run", ("run", "ORD-1"), "state", "write"),
    Use("run", ("run", "{order}", "--catalog", "{catalog}"), "state", "write"),
    Use("status", ("status",), "state", "scan"),
    Use("status", ("status", "ORD-1"), "state", "read"),
    Use("log", ("log", "ORD-1"), "state", "read"),
    Use("verify", ("verify", "ORD-1"), "state", "read"),
    Use("view", ("view", "ORD-1"), "state", "read"),
    Use("complete", ("complete", "ORD-1", "approve", "--output", "note={big}"), "state", "write"),
    Use("signal", ("signal", "ORD-1", "go", "--data", "note={big}"), "state", "write"),
    Use("resume", ("resume", "ORD-1", "hold", "--reason", "{big}"), "state", "write"),
    Use("retry", ("retry", "ORD-1", "broken", "--reason", "{big}"), "state", "write"),
    Use("retry", ("retry", "--all", "--reason", "{big}"), "state", "sweep"),
    Use("cancel", ("cancel", "ORD-1", "--reason", "{big}"), "state", "write"),
    Use("amend", ("amend", "ORD-1", "{revised}", "--reason", "{big}"), "state", "write"),
    Use("plan", ("plan", "{order}", "--amend", "ORD-1"), "state", "read"),
    Use("discard", ("discard", "ORD-1", "--reason", "{big}"), "state", "write"),
    Use("fallout", ("fallout", "--format", "json"), "state", "scan"),
    Use("jeopardy", ("jeopardy",), "state", "scan"),
    Use("tick", ("tick",), "state", "sweep"),
    # dro events works on the state directory's listeners (none here), not on ORD-1's files
    Use("events", ("events", "--failed"), "state", "listeners"),
    Use("events", ("events", "send"), "state", "listeners"),
    Use("events", ("events", "subscribe", "http://127.0.0.1:9/listener"), "state", "listeners-write"),
    Use("serve", ("serve", "--port", "0"), "state", "serve"),
    Use("compile", ("compile", "{catalog}", "-o", "{out}"), "output"),
    Use("view", ("view", "ORD-1", "-o", "{out}"), "output"),
    Use("test", ("test", "{tests}", "--format", "junit", "-o", "{out}"), "output"),
    Use("validate", ("validate", "{input}"), "input", reads="catalog"),
    Use("compile", ("compile", "{input}"), "input", reads="catalog"),
    Use("fmt", ("fmt", "{input}"), "input", reads="catalog"),
    Use("test", ("test", "{input}"), "input", reads="tests"),
    Use("plan", ("plan", "{input}", "--catalog", "{catalog}"), "input", reads="order"),
    Use("plan", ("plan", "{order}", "--catalog", "{input}"), "input", reads="catalog"),
    Use("run", ("run", "{input}", "--catalog", "{catalog}"), "input", reads="order"),
    Use("amend", ("amend", "ORD-1", "{input}"), "input", reads="order"),
    Use("plan", ("plan", "{input}", "--amend", "ORD-1"), "input", reads="order"),
    Use("diff", ("diff", "{input}", "{catalog}", "--orders", "{order}"), "input", reads="catalog", exit_code=1),
    Use("diff", ("diff", "{catalog}", "{catalog}", "--orders", "{input}"), "input", reads="order"),
]

# the kinds of bad path, by role
# where a file of an order belongs, a directory or a FIFO nobody writes (read, it would block for ever)
IN_PLACE_OF = {"journal is a directory": "journal.jsonl", "plan is a directory": "plan.json",
               "lock is a directory": "lock", "journal is a FIFO": "journal.jsonl", "plan is a FIFO": "plan.json"}
STATE_KINDS = ["a file", "under a file", "missing", *IN_PLACE_OF, "no permission", "read-only", "disk full"]
OUTPUT_KINDS = ["missing", "under a file", "a directory", "no permission", "read-only", "disk full"]
INPUT_KINDS = ["missing", "under a file", "no permission"]


def _cases() -> list[tuple[Use, str]]:
    kinds = {"state": STATE_KINDS, "output": OUTPUT_KINDS, "input": INPUT_KINDS}
    cases = []
    for use in USES:
        for kind in kinds[use.role]:
            if use.does == "serve" and kind not in ("a file", "under a file"):
                continue  # serve starts on any state directory it can use, and serves what it can read
            if use.does.startswith("listeners") and kind in IN_PLACE_OF:
                continue  # an order's files are not what it reads
            cases.append((use, kind))
    return cases


# ---- the coverage of the command table ---------------------------------------------------------------------

def _path_parameters(name: str) -> list[str]:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None
    return [param.name or "" for param in command.params if isinstance(param.type, click.Path)]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_is_covered(name: str) -> None:
    """Each command's path parameters (click.Path, --state-dir, -o) are exercised here, or it is exempt."""
    used = [use for use in USES if use.command == name]
    parameters = _path_parameters(name)
    if name in EXEMPT:
        assert not used and not parameters, f"{name} is exempt ({EXEMPT[name]}) but takes a path: {parameters}"
        return
    assert used, f"dro {name} is not in USES: give it its paths (or list it in EXEMPT, with why)"
    roles = {use.role for use in used}
    if "state_dir" in parameters:
        assert "state" in roles, f"dro {name} takes --state-dir: add a Use with role state"
    if "output" in parameters:
        assert "output" in roles, f"dro {name} takes -o: add a Use with role output"
    others = set(parameters) - {"state_dir", "output", "catalog"}
    if others:
        assert "input" in roles, f"dro {name} reads {sorted(others)}: add a Use with role input"


# ---- the fixture: a catalog, an order waiting on everything, a state directory -----------------------------

@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ORD-1 at NOW: approve waits for an operator, hold for an event, timer for 11:00, broken is in fallout."""
    base = tmp_path_factory.mktemp("prepared")
    (base / "cat").mkdir()
    (base / "cat" / "c.dro").write_text(CATALOG)
    (base / "cat" / "c.test.yaml").write_text(TESTS)
    (base / "o.yaml").write_text(ORDER)
    (base / "o2.yaml").write_text(REVISED)
    result = _in_process(["run", str(base / "o.yaml"), "--catalog", str(base / "cat")], base / "state", NOW)
    assert result[0] == 1 and "broken in fallout" in result[1], result
    return base


@dataclass
class Case:
    """Where one case runs: its state directory, its output path, its input path, and how to call dro."""

    prepared: Path
    state: Path
    out: Path | None = None
    input: Path | None = None
    unprivileged: bool = False

    def argv(self, use: Use) -> list[str]:
        values = {"order": str(self.prepared / "o.yaml"), "revised": str(self.prepared / "o2.yaml"),
                  "catalog": str(self.prepared / "cat"),
                  "tests": str(self.prepared / "cat"), "big": BIG, "out": str(self.out), "input": str(self.input)}
        return [arg.format(**values) for arg in use.args]

    def dro(self, use: Use) -> tuple[int, str, str]:
        argv = self.argv(use)
        if self.unprivileged or use.does == "serve":
            return _in_a_process(argv, self.state, LATER, unprivileged=self.unprivileged)
        return _in_process(argv, self.state, LATER)


def _env(state: Path, now: str) -> dict[str, str]:
    return {"NO_COLOR": "1", "DRO_STATE_DIR": str(state), "DRO_NOW": now, "DRO_OPERATOR": "ann", "DRO_CATALOG": ""}


def _in_process(argv: list[str], state: Path, now: str) -> tuple[int, str, str]:
    """dro in this process: an exception that is not dro's error escapes and fails the test."""
    result = CliRunner(env=_env(state, now)).invoke(cli, argv, catch_exceptions=False, prog_name="dro")
    return result.exit_code, result.stdout, result.stderr


def _in_a_process(argv: list[str], state: Path, now: str, *, unprivileged: bool) -> tuple[int, str, str]:
    """dro as its own process, through its real entry point; as root, without the power to ignore permissions."""
    prefix: list[str] = []
    if unprivileged and os.geteuid() == 0:
        prefix = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/"), **_env(state, now)}
    done = subprocess.run([*prefix, sys.executable, "-m", "dro_cli.main", *argv], capture_output=True, text=True,
                          env=env, timeout=60)
    return done.returncode, done.stdout, done.stderr


# ---- the kinds of bad path ---------------------------------------------------------------------------------

@functools.cache
def _why_no_mount() -> str | None:
    """None if this machine lets the tests mount a small tmpfs; else why not."""
    if os.geteuid() != 0:
        return f"mounting a small file system needs root (the tests run as uid {os.geteuid()})"
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return "no mount and umount commands on this machine"
    with tempfile.TemporaryDirectory() as probe:
        tried = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], capture_output=True,
                               text=True)
        if tried.returncode != 0:
            return f"this machine does not allow mounting a tmpfs: {tried.stderr.strip()}"
        subprocess.run(["umount", probe], check=True)
    return None


@contextlib.contextmanager
def small_fs(path: Path, size: str = "512k") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `path` for the block, or the test skipped with why it cannot be."""
    reason = _why_no_mount()
    if reason is not None:
        pytest.skip(reason)
    path.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)], check=True,
                   capture_output=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def read_only(fs: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(fs)], check=True, capture_output=True)


def fill(fs: Path) -> Path:
    """Fill the file system to its last byte; the filler file, to free the space again."""
    filler = fs / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as error:
        assert error.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def take_away_write(root: Path) -> None:
    """Directories r-x, files r--: what a process without root's powers cannot change."""
    for folder, _, files in os.walk(root):
        for name in files:
            os.chmod(os.path.join(folder, name), 0o444)
        os.chmod(folder, 0o555)


def give_back_write(root: Path) -> None:
    for folder, _, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o644)


def _needs_unprivileged() -> None:
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root, and no setpriv to drop the power to ignore file permissions")


@contextlib.contextmanager
def state_case(prepared: Path, tmp_path: Path, kind: str) -> Iterator[Case]:
    """A copy of the prepared state directory, made bad in the way `kind` says."""
    good = prepared / "state"
    if kind == "a file":
        (tmp_path / "afile").write_text("not a directory\n")
        yield Case(prepared, tmp_path / "afile")
    elif kind == "under a file":
        (tmp_path / "afile").write_text("not a directory\n")
        yield Case(prepared, tmp_path / "afile" / "state")
    elif kind == "missing":
        yield Case(prepared, tmp_path / "nodir" / "state")
    elif kind in IN_PLACE_OF:
        state = tmp_path / "state"
        shutil.copytree(good, state)
        order = state / "orders" / "ORD-1"
        name = IN_PLACE_OF[kind]
        for cache in ("digest.json", "snapshot.json") if name == "journal.jsonl" else ():
            (order / cache).unlink(missing_ok=True)  # else readers would not need the journal
        (order / name).unlink()
        if kind.endswith("FIFO"):
            os.mkfifo(order / name)
        else:
            (order / name).mkdir()
        yield Case(prepared, state)
    elif kind == "no permission":
        _needs_unprivileged()
        state = tmp_path / "state"
        shutil.copytree(good, state)
        take_away_write(state)
        try:
            yield Case(prepared, state, unprivileged=True)
        finally:
            give_back_write(state)
    else:
        with small_fs(tmp_path / "fs") as fs:
            shutil.copytree(good, fs / "state")
            filler = None
            if kind == "read-only":
                read_only(fs)
            else:
                filler = fill(fs)
            yield Case(prepared, fs / "state")
            if filler is not None:
                filler.unlink()


@contextlib.contextmanager
def output_case(prepared: Path, tmp_path: Path, kind: str) -> Iterator[Case]:
    state = prepared / "state"
    if kind == "missing":
        yield Case(prepared, state, out=tmp_path / "nodir" / "out.txt")
    elif kind == "under a file":
        (tmp_path / "afile").write_text("not a directory\n")
        yield Case(prepared, state, out=tmp_path / "afile" / "out.txt")
    elif kind == "a directory":
        (tmp_path / "adir").mkdir()
        yield Case(prepared, state, out=tmp_path / "adir")
    elif kind == "no permission":
        _needs_unprivileged()
        (tmp_path / "locked").mkdir(mode=0o555)
        try:
            yield Case(prepared, state, out=tmp_path / "locked" / "out.txt", unprivileged=True)
        finally:
            (tmp_path / "locked").chmod(0o755)
    else:
        with small_fs(tmp_path / "fs", "64k") as fs:
            filler = None
            if kind == "read-only":
                read_only(fs)
            else:
                filler = fill(fs)
            yield Case(prepared, state, out=fs / "out.txt")
            if filler is not None:
                filler.unlink()


@contextlib.contextmanager
def input_case(prepared: Path, tmp_path: Path, kind: str, reads: str) -> Iterator[Case]:
    name = {"catalog": "cat", "order": "o.yaml", "tests": "c.test.yaml"}[reads]
    state = tmp_path / "state"
    if kind == "missing":
        yield Case(prepared, state, input=tmp_path / "nodir" / name)
    elif kind == "under a file":
        (tmp_path / "afile").write_text("not a directory\n")
        yield Case(prepared, state, input=tmp_path / "afile" / name)
    else:
        _needs_unprivileged()
        if reads == "catalog":
            shutil.copytree(prepared / "cat", tmp_path / "cat")
            (tmp_path / "cat" / "c.test.yaml").unlink()
            locked = tmp_path / "cat" / "c.dro"
        else:
            locked = tmp_path / name
            shutil.copy(prepared / ("o.yaml" if reads == "order" else "cat/c.test.yaml"), locked)
        locked.chmod(0)
        try:
            yield Case(prepared, state, input=tmp_path / name, unprivileged=True)
        finally:
            locked.chmod(0o644)


# ---- the cases ---------------------------------------------------------------------------------------------

def _snapshot_of(root: Path) -> dict[str, bytes | None]:
    """Every file below `root` with its bytes (None for a directory, b"FIFO" for one, which read would
    block): to see that nothing changed."""
    found: dict[str, bytes | None] = {}
    if not root.is_dir():
        return found
    for folder, folders, files in os.walk(root):
        for name in folders:
            found[os.path.relpath(os.path.join(folder, name), root)] = None
        for name in files:
            path = os.path.join(folder, name)
            with contextlib.suppress(OSError):
                fifo = stat.S_ISFIFO(os.lstat(path).st_mode)
                found[os.path.relpath(path, root)] = b"FIFO" if fifo else Path(path).read_bytes()
    return found


def _assert_clean(code: int, out: str, err: str, expected: int) -> None:
    assert code == expected, f"exit {code}, expected {expected}\nstdout: {out}\nstderr: {err}"
    assert "internal error" not in err and "Traceback" not in err, err


@pytest.mark.parametrize(("use", "kind"), [c for c in _cases() if c[0].role == "state"], ids=str)
def test_a_bad_state_directory(prepared: Path, tmp_path: Path, use: Use, kind: str) -> None:
    with state_case(prepared, tmp_path, kind) as case:
        before = _snapshot_of(case.state)
        code, out, err = case.dro(use)
        after = _snapshot_of(case.state)
        if kind in ("a file", "under a file"):
            _assert_clean(code, out, err, 2)
            blocker = str(tmp_path / "afile")
            assert f"cannot use the state directory {case.state}: {blocker} is a file, not a directory" in err
            assert "--state-dir" in err  # the hint says where the state directory comes from
        elif kind == "missing":
            if use.args[0] == "run" and "ORD-1" not in use.args:  # a new state directory is made for a new order
                _assert_clean(code, out, err, 1)
                assert "order ORD-1: in_progress" in out
                assert _in_process(["verify", "ORD-1"], case.state, LATER)[0] == 0
            else:  # a typo in the name must not read as "no orders"
                _assert_clean(code, out, err, 2)
                assert f"no state directory {case.state}" in err
                assert not case.state.exists()
        elif kind in IN_PLACE_OF:
            _in_place_of_a_file(case, use, kind, code, out, err)
            assert after == before
        else:
            _bad_medium(case, use, kind, code, out, err, before, after)


def _in_place_of_a_file(case: Case, use: Use, kind: str, code: int, out: str, err: str) -> None:
    """A directory or FIFO where an order's journal, plan or lock belongs: the order's error, located (a
    FIFO is DRO522, exit 1), and a scan across orders warns and goes on. Readers take no lock, and
    `dro log` reads the journal alone."""
    name = IN_PLACE_OF[kind]
    path = case.state / "orders" / "ORD-1" / name
    fifo = kind.endswith("FIFO")
    if (name == "lock" and use.does in ("read", "scan")) or (name == "plan.json" and use.command == "log"):
        _assert_clean(code, out, err, 0)
        return
    if use.does in ("scan", "sweep"):
        _assert_clean(code, out, err, 1)
        # retry --all reads the fallout queues first: an order it cannot read is left out of them
        said = {"tick": "warning: order ORD-1 not continued: ",
                "retry": "ORD-1: not retried: " if name == "lock" else "warning: order ORD-1 left out: "}
        assert said.get(use.command, "warning: order ORD-1 left out: ") in err + out
    else:
        _assert_clean(code, out, err, 1 if fifo else 2)
    said = "is a named pipe (FIFO), not a regular file" if fifo else "is a directory, not a file"
    assert f"{path}: {path} {said}" in err + out
    assert name != "lock" or f"cannot lock {path}" in err + out


def _bad_medium(case: Case, use: Use, kind: str, code: int, out: str, err: str,
                before: dict[str, bytes | None], after: dict[str, bytes | None]) -> None:
    """No permission, a read-only file system, a full disk: readers work, writers say what is wrong."""
    what = {"no permission": "permission denied", "read-only": "read-only file system",
            "disk full": "disk full (no space left on device)"}[kind]
    if use.does in ("read", "scan", "listeners"):
        _assert_clean(code, out, err, 0)  # the caches they could not leave cost only speed
        assert after == before
        return
    if use.does == "listeners-write":
        _assert_clean(code, out, err, 1 if kind == "disk full" else 2)
        assert what in err and "listeners.json" in err
        assert after == before  # nothing half-written
        return
    if use.command == "discard" and kind == "disk full":  # ORD-1 has acted (broken started): refused before
        _assert_clean(code, out, err, 2)                   # anything is written (tests/test_wrong_catalog.py
        assert "cannot be discarded" in err                # discards an order that has not)
        assert after == before
        return
    expected = 1 if kind == "disk full" or use.does == "sweep" else 2
    _assert_clean(code, out, err, expected)
    assert what in err
    order = case.state / "orders" / "ORD-1"
    if kind == "disk full":
        first = "plan.r2.json" if use.command == "amend" else "journal.jsonl"  # a revision's plan before its record
        assert f"cannot write {order / first}: {what}" in err
        if use.does == "write":  # across orders, a warning line per order: the message without the hint
            assert "free some space on that disk" in err
        assert _in_process(["verify", "ORD-1"], case.state, LATER)[1].startswith("ORD-1: journal intact")
        assert not [name for name in after if name.endswith(".tmp")]  # nothing half-written beside it
    else:
        assert f"cannot lock {order / 'lock'}: {what}" in err
        assert after == before


@pytest.mark.parametrize(("use", "kind"), [c for c in _cases() if c[0].role == "output"], ids=str)
def test_a_bad_output_path(prepared: Path, tmp_path: Path, use: Use, kind: str) -> None:
    with output_case(prepared, tmp_path, kind) as case:
        assert case.out is not None
        folder = case.out if kind == "a directory" else case.out.parent
        before = _snapshot_of(folder)
        code, out, err = case.dro(use)
        after = _snapshot_of(folder)
        expected_error = {
            "missing": (2, f"cannot write {case.out}: the directory {case.out.parent} does not exist"),
            "under a file": (2, f"cannot write {case.out}: {case.out.parent} is a file, not a directory"),
            "a directory": (2, "is a directory"),
            "no permission": (2, f"cannot write {case.out}: permission denied"),
            "read-only": (2, f"cannot write {case.out}: read-only file system"),
            "disk full": (1, f"cannot write {case.out}: disk full (no space left on device)"),
        }[kind]
        _assert_clean(code, out, err, expected_error[0])
        assert expected_error[1] in err
        assert str(case.out) in err or f"'{case.out.name}'" in err
        assert after == before  # no output, no temporary file beside it
        if kind == "missing":
            assert not case.out.parent.exists()


@pytest.mark.parametrize(("use", "kind"), [c for c in _cases() if c[0].role == "input"], ids=str)
def test_a_bad_input_path(prepared: Path, tmp_path: Path, use: Use, kind: str) -> None:
    with input_case(prepared, tmp_path, kind, use.reads) as case:
        assert case.input is not None
        code, out, err = case.dro(use)
        _assert_clean(code, out, err, use.exit_code)
        said = out + err  # `dro validate` reports on stdout, as it reports everything
        shown = {"missing": ["does not exist"], "under a file": ["does not exist"],
                 "no permission": ["ermission denied", "is not readable"]}  # the latter: click's own check
        assert any(words in said for words in shown[kind]), said
        assert case.input.name in said
        assert not case.state.exists()  # nothing was started


# ---- the audit's cases, through dro's real entry point -------------------------------------------------------

@pytest.mark.parametrize(("args", "message"), [
    (("compile", "{catalog}", "-o", "build-out/t.json"),
     "error: cannot write build-out/t.json: the directory build-out does not exist\n"
     "  = help: create it first (mkdir -p build-out), or choose another path\n"),
    (("view", "ORD-1", "-o", "nodir/x.html"),
     "error: cannot write nodir/x.html: the directory nodir does not exist\n"
     "  = help: create it first (mkdir -p nodir), or choose another path\n"),
    (("test", "--format", "junit", "-o", "nodir/r.xml", "{tests}"),
     "error: cannot write nodir/r.xml: the directory nodir does not exist\n"
     "  = help: create it first (mkdir -p nodir), or choose another path\n"),
    (("status", "--state-dir", "README.md"),
     "error: cannot use the state directory README.md: README.md is a file, not a directory\n"
     "  = help: the state directory (README.md) is --state-dir, else $DRO_STATE_DIR, else .dro: give a "
     "directory, or a path where dro can make one\n"),
])
def test_the_audits_cases_get_located_errors(prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             args: tuple[str, ...], message: str) -> None:
    (tmp_path / "README.md").write_text("# a file\n")
    monkeypatch.chdir(tmp_path)
    argv = [arg.format(catalog=prepared / "cat", tests=prepared / "cat") for arg in args]
    code, _, err = _in_a_process(argv, prepared / "state", NOW, unprivileged=False)
    assert (code, err) == (2, message)
    assert sorted(os.listdir(tmp_path)) == ["README.md"]


def test_a_full_disk_during_a_run_keeps_the_journal_and_says_so(prepared: Path, tmp_path: Path) -> None:
    """The disk fills while `dro run` journals a round: the round is cut off, the journal verifies, the
    message says the disk is full, and once there is room the run goes on from the last record."""
    with small_fs(tmp_path / "fs") as fs:
        state = fs / "state"
        shutil.copytree(prepared / "state", state)
        journal = state / "orders" / "ORD-1" / "journal.jsonl"
        before = journal.read_bytes()
        filler = fill(fs)
        code, out, err = _in_a_process(["run", "ORD-1"], state, LATER, unprivileged=False)
        assert code == 1, (out, err)
        assert err == (f"error: cannot write {journal}: disk full (no space left on device)\n"
                       "  = help: free some space on that disk; the journal is intact up to its last whole record; "
                       "once that is fixed, `dro run ORD-1` goes on from there\n")
        assert journal.read_bytes() == before
        assert not [name for name in os.listdir(journal.parent) if name.endswith(".tmp")]
        assert _in_a_process(["verify", "ORD-1"], state, LATER, unprivileged=False)[1] == \
            "ORD-1: journal intact, 7 records, checksums chained; plan.json, snapshot and digest agree with it\n"
        filler.unlink()
        code, out, err = _in_a_process(["run", "ORD-1"], state, LATER, unprivileged=False)
        assert code == 1 and "order ORD-1: in_progress, 41/44 steps finished" in out, (out, err)
        assert _in_a_process(["verify", "ORD-1"], state, LATER, unprivileged=False)[0] == 0


@pytest.mark.parametrize("kind", ["read-only", "disk full"])
def test_fmt_says_why_it_cannot_rewrite_a_file_and_leaves_it(tmp_path: Path, kind: str) -> None:
    """`dro fmt` rewrites files in place: one it cannot write is reported (exit 2) and left as it was."""
    messy = 'lane   ops "Operations"\n'
    with small_fs(tmp_path / "fs", "64k") as fs:
        (fs / "c.dro").write_text(messy)
        if kind == "read-only":
            read_only(fs)
        else:
            fill(fs)
        code, out, err = _in_process(["fmt", str(fs / "c.dro")], tmp_path / "state", NOW)
        what = "read-only file system" if kind == "read-only" else "disk full (no space left on device)"
        _assert_clean(code, out, err, 2)
        assert f"error: cannot write {fs / 'c.dro'}: {what}\n" in err
        assert "1 file could not be formatted" in err
        assert (fs / "c.dro").read_text() == messy
        assert sorted(os.listdir(fs)) == (["c.dro"] if kind == "read-only" else ["c.dro", "filler"])


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_a_state_file_that_is_not_a_regular_file_is_refused_not_read_for_ever(tmp_path: Path, special: str) -> None:
    """journal.jsonl or plan.json as a device that never ends (/dev/zero) or a FIFO nobody writes:
    read, it would exhaust memory or block; it is refused as DRO522, exit 1."""
    from dro_cli.journal.file import read
    from dro_cli.journal.store import read_plan

    for name, reader in (("journal.jsonl", lambda: read(tmp_path / "journal.jsonl")),
                         ("plan.json", lambda: read_plan(tmp_path))):
        target = tmp_path / name
        if special == "fifo":
            os.mkfifo(target)
        else:
            target.symlink_to(special)
        with pytest.raises(DroError) as refused:
            reader()
        assert refused.value.code == "DRO522" and "not a regular file" in refused.value.message
        assert refused.value.exit_code == 1


LONG_ID = "A" * 300  # longer than a file name may be (ENAMETOOLONG): an id that cannot name a directory


@pytest.mark.parametrize("use", [u for u in USES if "ORD-1" in u.args and u.role != "input"], ids=str)
def test_an_order_id_too_long_for_a_file_name_is_a_usage_error(prepared: Path, tmp_path: Path, use: Use) -> None:
    state = tmp_path / "state"
    shutil.copytree(prepared / "state", state)
    before = _snapshot_of(state)
    argv = [arg.replace("ORD-1", LONG_ID) for arg in Case(prepared, state).argv(use)]
    code, out, err = _in_process(argv, state, LATER)
    _assert_clean(code, out, err, 2)
    assert f"'{LONG_ID}'" in err or "file name too long" in err
    assert _snapshot_of(state) == before
