"""The README's main job: the demo runs ORD-1001 through the laptop catalog and its simulator to completion."""

from __future__ import annotations

import os
import subprocess
import sys

from goldens import ROOT


def test_the_demo_completes_the_sample_order() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DRO_")}
    done = subprocess.run([sys.executable, str(ROOT / "catalogs" / "laptop" / "demo.py")], env=env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "$ dro run catalogs/laptop/orders/ORD-1001.yaml --catalog catalogs/laptop" in out
    assert "an operator to complete credit_check (queue credit_team)" in out
    assert "order ORD-1001: completed, 8/8 steps finished" in out
    assert "reservation_id=RES-" in out and "license_key=" in out  # the simulator answered the callouts
    assert "demo-license-token" not in out  # the bearer token is sent, never shown
    assert done.stderr == ""
