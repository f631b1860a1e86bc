"""The fiber catalog's in-flight stories from the command line (catalogs/fiber/stories.py), against its
simulated systems over real HTTP: an upgrade re-plans and returns the router that shipped, cancelled TV
steps are discarded, and a change past the port-in's point of no return is refused."""

from __future__ import annotations

import os
import subprocess
import sys

from goldens import CATALOGS


def test_the_three_stories_run_end_to_end() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRO_")} | {"NO_COLOR": "1"}
    done = subprocess.run([sys.executable, str(CATALOGS / "fiber" / "stories.py")], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "order ORD-2101 amended to revision 2" in out
    assert "- canceled     ship_router[B1/ROUTER-WIFI6]" in out
    assert "< compensation request_return[r2:ship_router[B1/ROUTER-WIFI6]]" in out
    assert "+ added        ship_router[B1/ROUTER-WIFI7]" in out
    assert "operator demo-operator amended the order, revision 2: " in out and "(reason: upgrade to 1 Gbit/s)" in out
    assert "order ORD-2102 amended to revision 2" in out and "- discarded    activate_tv_box[B1/IPTV/TV-BOX]" in out
    assert "error[DRO532]: request_port_in[B1/MOBILE-SIM] cannot change" in done.stderr
    assert "Traceback" not in out + done.stderr
