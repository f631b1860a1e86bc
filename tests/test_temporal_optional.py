"""The `temporal` extra is optional: the local engine never loads temporalio, and without the extra
`--engine temporal` and `dro worker` say how to install it (exit 2). Runs with or without the extra."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

CATALOG = Path(__file__).resolve().parent.parent / "catalogs" / "laptop"
ORDER = CATALOG / "orders" / "ORD-1001.yaml"


def probe(args: list[str], *, hide_temporalio: bool = False) -> tuple[int, str, list[str]]:
    """`dro ARGS` in a fresh interpreter: its exit status, stderr, and the temporalio modules it loaded."""
    script = (
        "import sys, json\n"
        + ("sys.modules['temporalio'] = None  # as if the extra were not installed\n" if hide_temporalio else "")
        + "from dro_cli.main import cli\n"
        f"try:\n    cli.main({args!r}, prog_name='dro')\nexcept SystemExit as e:\n    code = e.code or 0\n"
        "print(json.dumps([code, sorted(m for m in sys.modules if m.startswith('temporalio') "
        "and sys.modules[m] is not None)]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    code, loaded = json.loads(done.stdout.splitlines()[-1])
    return code, done.stderr, loaded


def test_the_local_engine_loads_no_temporalio(tmp_path: Path) -> None:
    state = str(tmp_path / "state")
    code, stderr, loaded = probe(["run", str(ORDER), "--catalog", str(CATALOG), "--state-dir", state, "-q"])
    assert code in (0, 1), stderr  # the sample order waits for the credit team (its callouts have no servers)
    assert loaded == []
    code, stderr, loaded = probe(["status", "ORD-1001", "--format", "json", "--state-dir", state])
    assert (code, loaded) == (0, []), stderr


@pytest.mark.parametrize("args", [["status", "ORD-1001", "--engine", "temporal"], ["worker"]])
def test_without_the_extra_temporal_says_how_to_install_it(args: list[str]) -> None:
    code, stderr, _ = probe(args, hide_temporalio=True)
    assert code == 2, stderr
    assert "pip install 'dro[temporal]'" in stderr and "Traceback" not in stderr
