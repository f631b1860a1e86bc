"""Three in-flight changes to FiberNet orders, end to end from the command line (docs/amending.md).

    python catalogs/fiber/stories.py [--state-dir DIR] [--keep] [STORY...]

It starts the simulated systems of the catalog (simulator.py: real HTTP on 127.0.0.1), points the
endpoints at them, and types what an operator would:

- upgrade: a 500 Mbit/s bundle is upgraded to 1 Gbit/s after the port was reserved and the Wi-Fi 6
  router shipped, before the line is active: the steps not started are discarded and planned anew,
  the network steps run again for the new speed, and the Wi-Fi 6 router is sent back (compensation);
- tv: the TV boxes are cancelled after the router has shipped: the TV steps are discarded, and what
  has shipped comes back;
- port: the customer wants to port another number after the port-in request went to the donor
  operator, past its point of no return: refused (DRO532), nothing changes.

Each revision is previewed with `dro plan --amend` first. The demo exits 0 only if every story ends
as it should.
"""

from __future__ import annotations

import argparse
import copy
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from simulator import SECRETS, Simulator  # noqa: E402  (a sibling file, not a package)

BASE = HERE / "orders" / "ORD-2001-new-bundle.yaml"
ENDPOINTS = ("NETWORK_INVENTORY_URL", "LOGISTICS_URL", "TV_PLATFORM_URL", "MOBILE_CORE_URL", "NUMBER_PORTABILITY_URL")


def _order(order_id: str, change: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """ORD-2001's order under another id, changed by `change` (its one line's attributes)."""
    data = copy.deepcopy(yaml.safe_load(BASE.read_text(encoding="utf-8")))
    data["order"]["id"] = order_id
    if change is not None:
        change(data["order"]["items"][0]["attributes"])
    return data


def _write(folder: Path, name: str, data: dict[str, Any]) -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


class Stories:
    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env = env
        self.folder = folder

    def dro(self, why: str, args: list[str], expect: int = 0) -> bool:
        print(f"\n# {why}\n$ dro {' '.join(shlex.quote(a) for a in args)}", flush=True)
        done = subprocess.run([sys.executable, "-m", "dro_cli.main", *args], env=self.env, check=False)
        if done.returncode != expect:
            print(f"# dro exited {done.returncode}, expected {expect}", file=sys.stderr)
            return False
        return True

    def upgrade(self) -> bool:
        first = _write(self.folder, "ORD-2101.yaml", _order("ORD-2101", lambda a: a.update(speed_mbps=500)))
        revised = _write(self.folder, "ORD-2101-r2.yaml", _order("ORD-2101", lambda a: a.update(speed_mbps=1000)))
        return (self.dro("a 500 Mbit/s bundle: it runs until it waits for the appointment desk",
                         ["run", str(first), "--catalog", str(HERE)])
                and self.dro("the customer upgrades to 1 Gbit/s: what would change", ["plan", "--amend", "ORD-2101",
                                                                                   str(revised)])
                and self.dro("amend it", ["amend", "ORD-2101", str(revised), "--reason", "upgrade to 1 Gbit/s"])
                and self.dro("who amended it and why, as journaled", ["log", "ORD-2101"])
                and self.dro("revision 2, running", ["status", "ORD-2101"]))

    def tv(self) -> bool:
        def no_tv(attributes: dict[str, Any]) -> None:
            attributes.pop("tv_package")
            attributes.pop("tv_boxes")

        first = _write(self.folder, "ORD-2102.yaml", _order("ORD-2102"))
        revised = _write(self.folder, "ORD-2102-r2.yaml", _order("ORD-2102", no_tv))
        return (self.dro("a bundle with TV: it runs until it waits for the appointment desk",
                         ["run", str(first), "--catalog", str(HERE)])
                and self.dro("the customer cancels the TV boxes", ["amend", "ORD-2102", str(revised), "--reason",
                                                                  "customer does not want TV"])
                and self.dro("revision 2, running", ["status", "ORD-2102"]))

    def port(self) -> bool:
        first = _write(self.folder, "ORD-2103.yaml", _order("ORD-2103"))
        revised = _write(self.folder, "ORD-2103-r2.yaml",
                         _order("ORD-2103", lambda a: a.update(port_in_msisdn="+4917099887766")))
        return (self.dro("a bundle whose number is ported in: the port-in request goes out",
                         ["run", str(first), "--catalog", str(HERE)])
                and self.dro("the customer wants another number ported: past the point of no return",
                             ["amend", "ORD-2103", str(revised)], expect=2)
                and self.dro("nothing changed", ["status", "ORD-2103"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stories", nargs="*", choices=["upgrade", "tv", "port", []], default=[],
                        help="which stories (default: all three)")
    parser.add_argument("--state-dir", type=Path, help="where dro keeps the orders (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dro-fiber-"))
    state_dir = args.state_dir or work / "state"
    try:
        with Simulator() as simulator:
            print(f"# the simulated FiberNet systems listen on {simulator.url}")
            env = {**os.environ, **SECRETS, **dict.fromkeys(ENDPOINTS, simulator.url), "DRO_STATE_DIR": str(state_dir),
                   "DRO_OPERATOR": "demo-operator", "NO_COLOR": os.environ.get("NO_COLOR", "")}
            env.pop("DRO_NOW", None)
            env.pop("DRO_CATALOG", None)
            stories = Stories(env, work)
            for name in args.stories or ["upgrade", "tv", "port"]:
                print(f"\n#### story: {name}")
                if not getattr(stories, name)():
                    return 1
            print(f"\n# {len(simulator.requests())} requests reached the simulated systems")
        return 0
    finally:
        if args.keep or args.state_dir:
            print(f"# kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
