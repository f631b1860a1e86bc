"""Catalog revisions for `dro diff`: a path as it is, or `git:REV:path` read out of git into a temporary directory.

`git:REV:path` names `path` as it is in revision `REV`, as `git show REV:path` does:
`path` is relative to the root of the repository the current directory is in, and
`REV` is anything git accepts as a commit (`main`, `HEAD~1`, a sha, `origin/main`)
but may hold no `:`. Every file under `path` is copied (flows and orders may live
beside the catalog); symbolic links are refused, submodules skipped. Git runs as a
subprocess with an argument list, never through a shell.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from dro_cli.errors import EXIT_FAILED, EXIT_USAGE, DroError
from dsl.diagnostics import Diagnostic
from dsl.sources import Sources

GIT_PREFIX = "git:"
_SYMLINK_MODE = "120000"
_PATHS_HELP = "paths are relative to the repository's root, as in `git show REV:path`; list them with " \
              "`git ls-tree --name-only REV`"


@dataclass(frozen=True)
class Revision:
    """A catalog to read: `path` is a directory or file on disk, under `checkout` when it came from git."""

    spec: str  # as the user wrote it
    path: Path
    checkout: Path | None = None  # the temporary directory a git revision was written to
    rev: str = ""
    repo_path: str = ""  # the path inside the repository ("" for its root)

    def shown(self, file: str) -> str:
        """A file name as diagnostics print it: `git:REV:catalog/laptop.dro` for files of a git revision."""
        if self.checkout is None:
            return file
        try:
            inside = Path(file).resolve().relative_to(self.checkout.resolve())
        except ValueError:
            return file
        return f"{GIT_PREFIX}{self.rev}:{inside.as_posix()}"

    def relabel(self, diagnostics: Sequence[Diagnostic], sources: Sources) -> tuple[list[Diagnostic], Sources]:
        """Diagnostics and source texts with the files of a git revision named by `shown`."""
        if self.checkout is None:
            return list(diagnostics), sources
        renamed = [d if d.span is None else replace(d, span=d.span._replace(file=self.shown(d.span.file)))
                   for d in diagnostics]
        return renamed, Sources({self.shown(name): text for name, text in sources.texts.items()})


@contextlib.contextmanager
def open_revision(spec: str) -> Iterator[Revision]:
    """The catalog `spec` names; a git revision lives in a temporary directory until the block ends."""
    if not spec.startswith(GIT_PREFIX):
        yield Revision(spec, Path(spec))
        return
    rev, path = parse_git_spec(spec)
    top = _toplevel()
    commit = _commit(top, rev)
    with tempfile.TemporaryDirectory(prefix="dro-diff-") as temporary:
        checkout = Path(temporary)
        _materialise(top, commit, rev, path, checkout)
        yield Revision(spec, checkout / path if path else checkout, checkout, rev, path)


def parse_git_spec(spec: str) -> tuple[str, str]:
    """(REV, path) of `git:REV:path`, the path normalised; paths that leave the repository are refused."""
    rev, colon, path = spec[len(GIT_PREFIX):].partition(":")
    if not colon or not rev:
        raise DroError(f"'{spec}' is not a git revision of a catalog", exit_code=EXIT_USAGE,
                       hint="write git:REV:path, e.g. git:main:catalogs/laptop (git:HEAD: for the repository root)")
    if rev.startswith("-"):
        raise DroError(f"'{rev}' is not a revision", exit_code=EXIT_USAGE,
                       hint="a revision is a branch, tag or commit: main, HEAD~1, a sha, origin/main")
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        raise DroError(f"the path '{path}' in '{spec}' leaves the repository", exit_code=EXIT_USAGE, hint=_PATHS_HELP)
    normal = pure.as_posix()
    return rev, "" if normal == "." else normal


def _git(args: Sequence[str], cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, env=env, check=False)
    except FileNotFoundError:
        raise DroError("git is not installed (or not on PATH)", exit_code=EXIT_FAILED,
                       hint="install git, or give catalog directories instead of git:REV:path") from None


def _toplevel() -> Path:
    done = _git(["rev-parse", "--show-toplevel"], Path.cwd())
    if done.returncode != 0:
        raise DroError(f"'{Path.cwd()}' is not in a git repository, so git:REV:path cannot be read",
                       hint="run dro diff inside the repository, or give catalog directories")
    return Path(os.fsdecode(done.stdout.rstrip(b"\n")))


def _commit(top: Path, rev: str) -> str:
    done = _git(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"], top)
    if done.returncode != 0:
        raise DroError(f"unknown revision '{rev}' in the repository at '{top}'",
                       hint="give a branch, tag or commit git knows: main, HEAD~1, a sha, origin/main "
                            "(a CI checkout may need the history: fetch-depth 0)")
    return done.stdout.decode("ascii").strip()


def _materialise(top: Path, commit: str, rev: str, path: str, checkout: Path) -> None:
    """Write every file under `path` in `commit` below `checkout`, at its path in the repository."""
    listing = _git(["--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", commit,
                    *(["--", path] if path else [])], top)
    if listing.returncode != 0:
        raise DroError(f"git cannot list '{path or '.'}' in revision {rev}: {_first_line(listing.stderr)}",
                       hint=_PATHS_HELP)
    blobs: list[tuple[str, str]] = []  # (object, file name in the repository)
    for entry in listing.stdout.split(b"\0"):
        if not entry:
            continue
        meta, _, raw_name = entry.partition(b"\t")
        mode, kind, obj = meta.decode("ascii").split(" ")
        name = os.fsdecode(raw_name)
        if path and name != path and not name.startswith(path + "/"):
            continue
        if mode == _SYMLINK_MODE:
            raise DroError(f"'{name}' is a symbolic link in revision {rev}; dro diff does not follow links",
                           hint="diff a checked-out directory instead, or replace the link with the file")
        if kind == "blob":
            blobs.append((obj, name))
    if not blobs:
        raise DroError(f"'{path}' is not in revision {rev}", hint=_PATHS_HELP)
    _write_blobs(top, blobs, checkout)


def _write_blobs(top: Path, blobs: list[tuple[str, str]], checkout: Path) -> None:
    """The blobs' content, read with one `git cat-file --batch`, written under `checkout`."""
    done = _git(["cat-file", "--batch"], top, stdin="".join(f"{obj}\n" for obj, _ in blobs).encode("ascii"))
    if done.returncode != 0:
        raise DroError(f"git cannot read the revision's files: {_first_line(done.stderr)}")
    root = checkout.resolve()
    out, at = done.stdout, 0
    for obj, name in blobs:
        end = out.index(b"\n", at)
        header = out[at:end].decode("ascii").split(" ")
        if len(header) != 3 or header[0] != obj or header[1] != "blob":
            raise DroError(f"git did not give the content of '{name}': {' '.join(header)}")
        size = int(header[2])
        content = out[end + 1:end + 1 + size]
        at = end + 1 + size + 1  # the content, then a newline
        target = _inside(root, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _inside(root: Path, name: str) -> Path:
    """Where `name` goes below `root`; a name that would land outside it is refused."""
    pure = PurePosixPath(name)
    target = root.joinpath(*pure.parts)
    if pure.is_absolute() or ".." in pure.parts or not target.resolve().is_relative_to(root):
        raise DroError(f"the revision holds a file named '{name}', which would land outside the catalog",
                       hint="this is not a tree git itself writes; check the repository")
    return target


def _first_line(stderr: bytes) -> str:
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[0] if lines else "no message"
