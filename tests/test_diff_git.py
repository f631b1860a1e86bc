"""`dro diff git:REV:path ...`: catalogs read out of a real git repository's revisions, and the errors on the way."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_diff import LAPTOP, diff, diff_json, edit, lines

from dro_cli.errors import DroError

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

GIT_ENV = {"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com", "GIT_COMMITTER_NAME": "Test",
           "GIT_COMMITTER_EMAIL": "test@example.com", "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "commit.gpgsign=false", *args], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV}, check=True, timeout=60)
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A repository holding the laptop catalog at `catalog/`: HEAD~1 as it is, HEAD with credit_check's
    duration 4h; the current directory is the repository, temporary directories go to `tmp/`."""
    root = tmp_path / "repo"
    shutil.copytree(LAPTOP, root / "catalog", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "README.md").write_text("a repository\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "the laptop catalog")
    edit(root / "catalog" / "laptop.dro", "    duration     8h\n", "    duration     4h\n")
    git(root, "commit", "-q", "-am", "a faster credit check")
    monkeypatch.chdir(root)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    yield root
    assert list((tmp_path / "tmp").glob("dro-diff-*")) == []  # every revision's directory is cleaned up


def test_two_revisions_of_a_catalog(repo: Path) -> None:
    result = diff("git:HEAD~1:catalog", "git:HEAD:catalog")
    assert result.exit_code == 3, result.stderr
    out = lines(result)
    assert out[:2] == ["ORD-1001  (git:HEAD:catalog/orders/ORD-1001.yaml)", "~ credit_check: duration 8h -> 4h"]
    document = diff_json("git:main~1:./catalog/", "git:main:catalog")
    assert document["old"] == "git:main~1:./catalog/" and document["summary"]["change"] == 3  # PO-7001 too
    assert diff("git:HEAD:catalog", "git:main:catalog").exit_code == 0


def test_a_revision_against_the_working_directory(repo: Path) -> None:
    assert diff("git:HEAD:catalog", "catalog").exit_code == 0
    edit(repo / "catalog" / "laptop.dro", "    lane     inventory\n", "    lane     shipping\n")
    result = diff("git:HEAD:catalog", "catalog")
    assert result.exit_code == 3 and "~ reserve[L1/LAPTOP-HW]: lane inventory -> shipping" in lines(result)
    assert "ORD-1001  (catalog/orders/ORD-1001.yaml)" in lines(result)
    # ORD-1002 has no credit check and no laptop: its plan is the same, the templates are not
    document = diff_json("git:HEAD~1:catalog", "catalog", "--orders", "catalog/orders/ORD-1002.json")
    assert document["summary"]["orders_changed"] == 0 and document["differences"] is True
    assert [c["id"] for c in document["templates"]["changed"]] == ["credit_check", "reserve"]


def test_paths_are_relative_to_the_repository_root(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo / "catalog" / "orders")
    result = diff("git:HEAD~1:catalog", "git:HEAD:catalog")
    assert result.exit_code == 3 and "~ credit_check: duration 8h -> 4h" in lines(result)


def test_a_broken_revision_names_its_files_by_revision(repo: Path) -> None:
    edit(repo / "catalog" / "laptop.dro", "    lane     inventory\n", "    lane     inventori\n")
    git(repo, "commit", "-q", "-am", "a typo")
    text = (repo / "catalog" / "laptop.dro").read_text(encoding="utf-8")
    row, source = next((n, line) for n, line in enumerate(text.splitlines(), 1) if "inventori" in line)
    result = diff("git:HEAD~1:catalog", "git:HEAD:catalog")
    assert result.exit_code == 1 and result.stdout == ""
    assert "error[DRO301]: unknown lane 'inventori'" in result.stderr
    assert f"--> git:HEAD:catalog/laptop.dro:{row}:{source.index('inventori') + 1}\n" in result.stderr
    assert f"{row} | {source}\n" in result.stderr  # the source line, read out of the revision
    assert "error: the catalog 'git:HEAD:catalog' cannot be compiled" in result.stderr


def test_an_unknown_revision(repo: Path) -> None:
    result = diff("git:no-such-branch:catalog", "catalog")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("error: unknown revision 'no-such-branch' in the repository at ")
    assert "= help: give a branch, tag or commit git knows" in result.stderr


def test_a_path_that_is_not_in_the_revision(repo: Path) -> None:
    result = diff("git:HEAD:catalogue", "catalog")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: 'catalogue' is not in revision HEAD\n")
    assert "relative to the repository's root, as in `git show REV:path`" in result.stderr
    # a pathspec is literal: no glob finds the catalog
    assert "is not in revision HEAD" in diff("git:HEAD:cat*", "catalog").stderr
    assert "is not in revision HEAD" in diff("git:HEAD:catalog/laptop", "catalog").stderr


@pytest.mark.parametrize("spec", ["git:HEAD:../catalog", "git:HEAD:catalog/../..", "git:HEAD:/etc",
                                  "git:--output=x:catalog", "git:HEAD", "git::catalog"])
def test_specs_that_escape_or_are_malformed_are_refused(repo: Path, spec: str) -> None:
    result = diff(spec, "catalog")
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: ") and "= help: " in result.stderr
    assert not (repo / "x").exists()


def test_not_a_repository(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "plain"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = diff("git:HEAD:catalog", str(repo / "catalog"))
    assert result.exit_code == 1
    assert "is not in a git repository, so git:REV:path cannot be read" in result.stderr
    assert "= help: run dro diff inside the repository" in result.stderr


def test_a_symbolic_link_in_the_revision_is_refused(repo: Path) -> None:
    (repo / "catalog" / "outside.dro").symlink_to("/etc/passwd")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a link")
    result = diff("git:HEAD~1:catalog", "git:HEAD:catalog")
    assert result.exit_code == 1
    assert "error: 'catalog/outside.dro' is a symbolic link in revision HEAD" in result.stderr


def test_every_file_under_the_path_is_copied_and_nothing_else(repo: Path) -> None:
    from dro_cli.diff.catalog_revisions import open_revision

    with open_revision("git:HEAD~1:catalog") as revision:
        copied = sorted(p.relative_to(revision.path).as_posix() for p in revision.path.rglob("*") if p.is_file())
        assert revision.checkout is not None
        assert sorted(p.name for p in revision.checkout.iterdir()) == ["catalog"]  # no README.md
        assert "duration     8h" in (revision.path / "laptop.dro").read_text()
    expected = sorted(p.relative_to(repo / "catalog").as_posix() for p in (repo / "catalog").rglob("*")
                      if p.is_file())
    assert copied == expected and "acme_flows.py" in copied and "orders/ORD-1001.yaml" in copied
    with open_revision("git:HEAD:") as whole:
        assert (whole.path / "README.md").is_file() and whole.path == whole.checkout


def test_files_that_would_land_outside_the_directory_are_refused(tmp_path: Path) -> None:
    from dro_cli.diff.catalog_revisions import _inside

    assert _inside(tmp_path, "catalog/a.dro") == tmp_path / "catalog" / "a.dro"
    for name in ("../escape.dro", "catalog/../../escape.dro", "/etc/passwd"):
        with pytest.raises(DroError, match="would land outside"):
            _inside(tmp_path, name)
