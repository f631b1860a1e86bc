"""`dro status ORDER` on a real terminal (a pty): lanes with coloured states; NO_COLOR, or stdout that is not
a terminal, gives the same text without colour."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_fallout_queues import Lab, into_fallout

ANSI = re.compile(rb"\x1b\[[0-9;]*m")


def status_on_a_terminal(lab: Lab, **extra: str) -> bytes:
    """What `dro status ORD-1` writes to a pseudo-terminal."""
    env = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    env |= {"DRO_STATE_DIR": str(lab.state), "DRO_NOW": lab.now, **extra}
    leader, follower = pty.openpty()
    try:
        process = subprocess.run([sys.executable, "-m", "dro_cli.main", "status", "ORD-1"], env=env,
                                 stdout=follower, stderr=subprocess.PIPE, timeout=60, check=True)
        assert process.stderr == b""
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal's other end has closed: all is read
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).replace(b"\r\n", b"\n")
    finally:
        os.close(leader)
        if follower != -1:
            os.close(follower)


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    lab = Lab(tmp_path)
    into_fallout(lab, "ORD-1")
    return lab


def test_a_terminal_gets_coloured_states_by_lane(lab: Lab) -> None:
    coloured = status_on_a_terminal(lab)
    assert b"\x1b[31m\x1b[1mfatally_failed" in coloured  # red and bold: in fallout
    assert b"\x1b[32mcompleted" in coloured  # green
    plain = lab.dro("status", "ORD-1").output.encode()  # not a terminal: no colour
    assert not ANSI.search(plain)
    assert ANSI.sub(b"", coloured) == plain
    assert b"Operations  [ops]" in plain and b"Shipping  [ship]" in plain


def test_no_color_turns_colour_off_on_a_terminal(lab: Lab) -> None:
    assert not ANSI.search(status_on_a_terminal(lab, NO_COLOR="1"))
