"""`dro test` reads no test file through a link that leads out of the directory it searches.

Before, `ln -s /proc/self/environ x.test.yaml` in a repository made `dro test` print the first
line of CI's environment in its YAML error. Discovery now follows the catalog's rule
(dsl.sources.leads_outside): such a link is skipped, with a DRO603 warning naming it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import assert_no_internal_error

from dro_cli.scenario_tests.spec import find_test_files

ROOT = Path(__file__).resolve().parent.parent
MARKER = "hunter2-do-not-print"


def repository(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "catalogs" / "laptop", repo / "laptop")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.test.yaml").write_text(f"TOKEN={MARKER}\n")
    (outside / "tests").mkdir()
    (outside / "tests" / "more.test.yaml").write_text(f"TOKEN={MARKER}\n")
    (repo / "laptop" / "leak.test.yaml").symlink_to(outside / "secret.test.yaml")
    (repo / "laptop" / "environ.test.yaml").symlink_to("/proc/self/environ")
    (repo / "laptop" / "shared").symlink_to(outside / "tests", target_is_directory=True)
    return repo


def dro_test(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "CI_SECRET": MARKER}
    return subprocess.run([sys.executable, "-m", "dro_cli.main", "test", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_a_link_out_of_the_repository_is_not_read(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    done = dro_test("laptop", cwd=repo)
    assert_no_internal_error(done)
    assert MARKER not in done.stdout + done.stderr
    assert done.returncode == 0, done.stdout + done.stderr  # the catalog's own tests still ran and passed
    assert "warning[DRO603]: 'laptop/leak.test.yaml' is a link that leads outside 'laptop': not read" in done.stderr
    assert "warning[DRO603]: 'laptop/environ.test.yaml' is a link" in done.stderr
    assert "laptop.test.yaml" in done.stdout


def test_discovery_keeps_links_inside_and_skips_those_outside(tmp_path: Path) -> None:
    repo = repository(tmp_path)
    (repo / "laptop" / "again.test.yaml").symlink_to("laptop.test.yaml")  # inside: read
    found, problems = find_test_files([repo])
    assert [p.relative_to(repo).as_posix() for p in found] == ["laptop/again.test.yaml", "laptop/laptop.test.yaml"]
    assert sorted((d.code, d.severity) for d in problems) == [("DRO603", "warning")] * 2


def test_a_directory_of_nothing_but_outside_links_has_no_tests(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (tmp_path / "secret.test.yaml").write_text(f"TOKEN={MARKER}\n")
    (repo / "x.test.yaml").symlink_to(tmp_path / "secret.test.yaml")
    done = dro_test(".", cwd=repo)
    assert_no_internal_error(done)
    assert MARKER not in done.stdout + done.stderr
    assert done.returncode == 2 and "DRO603" in done.stderr and "error[DRO602]" in done.stderr
