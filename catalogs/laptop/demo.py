"""Run the sample order ORD-1001 through the laptop catalog, end to end, as an operator would.

    python catalogs/laptop/demo.py [--state-dir DIR] [--keep]

It starts the simulator of the catalog's systems (simulator.py: real HTTP on
127.0.0.1, a free port), points the catalog's endpoints at it, then types the
commands an operator would: `dro run` plans and runs the order until it waits for
the credit team; `dro complete` finishes the manual steps; `dro signal` delivers
the work-order event the pause waits for; `dro status` shows the finished plan.
Each command is printed before it runs. The simulator stops at the end, and the
demo exits 0 only if the order completed.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from simulator import Simulator  # noqa: E402  (a sibling file, not a package)

ORDER = "ORD-1001"
TOKEN = "demo-license-token"  # the simulator's bearer token; a real one would come from a secret store


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--state-dir", type=Path, help="where dro keeps the order (default: a temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary state directory")
    args = parser.parse_args()
    state_dir = args.state_dir or Path(tempfile.mkdtemp(prefix="dro-demo-"))
    try:
        with Simulator(token=TOKEN) as simulator:
            print(f"# the simulated warehouse and license server listen on {simulator.url}")
            env = {**os.environ, "WMS_URL": simulator.url, "LICENSE_SERVER_URL": simulator.url,
                   "LICENSE_SERVER_TOKEN": TOKEN, "DRO_STATE_DIR": str(state_dir), "DRO_OPERATOR": "demo-operator"}
            env.pop("DRO_NOW", None)
            steps = [
                ("plan the order and run it until it waits for the credit team",
                 ["run", str(HERE / "orders" / f"{ORDER}.yaml"), "--catalog", str(HERE)]),
                ("the credit team approves",
                 ["complete", ORDER, "credit_check", "--output", "approved_by=credit-desk"]),
                ("the installer reports the on-site setup done",
                 ["complete", ORDER, "install", "--output", "technician=T-17"]),
                ("the field service system sends the work-order event", ["signal", ORDER, "work_order.completed"]),
                ("every state change, as the journal recorded it", ["log", ORDER]),
                ("the finished plan", ["status", ORDER]),
            ]
            for why, args_ in steps:
                if not _dro(why, args_, env):
                    return 1
            print(f"# {len(simulator.requests())} requests reached the simulated systems")
        return 0 if b'"state": "completed"' in _status_json(env) else 1
    finally:
        if args.state_dir is None and not args.keep:
            shutil.rmtree(state_dir, ignore_errors=True)
        elif args.state_dir is None:
            print(f"# the order's files are in {state_dir}")


def _dro(why: str, args: list[str], env: dict[str, str]) -> bool:
    print(f"\n# {why}\n$ dro {' '.join(shlex.quote(a) for a in _shown(args))}", flush=True)
    done = subprocess.run([sys.executable, "-m", "dro_cli.main", *args], env=env)
    return done.returncode == 0


def _shown(args: list[str]) -> list[str]:
    """Paths as a user in the repository would type them."""
    shown = []
    for arg in args:
        try:
            shown.append(str(Path(arg).relative_to(Path.cwd())))
        except ValueError:
            shown.append(arg)
    return shown


def _status_json(env: dict[str, str]) -> bytes:
    done = subprocess.run([sys.executable, "-m", "dro_cli.main", "status", ORDER, "--format", "json"],
                          env=env, capture_output=True)
    return done.stdout


if __name__ == "__main__":
    sys.exit(main())
