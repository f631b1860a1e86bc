"""The sample output in docs/sla-and-fallout.md, made by running the commands the page shows.

The page's "Try it" session runs for real: the laptop catalog's simulator on 127.0.0.1 (a free
port, shown as the page's 8091), `dro` in process on the clock of DRO_NOW, a state directory of
its own. Each block the page marks with `<!-- sample: NAME -->` is what one command of the
session printed (or the part of it named in SAMPLES), with the command before it; the "Try it"
block is the session itself. tests/test_doc_samples.py checks the page against a fresh run, and
`python tests/regen_goldens.py` rewrites the blocks; review the diff.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from dro_cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "sla-and-fallout.md"
SHOWN_PORT = 8091
SIMULATOR = f"python catalogs/laptop/simulator.py --port {SHOWN_PORT} --token demo-token --fail /reservations=503 &"
EXPORTS = {"WMS_URL": f"http://127.0.0.1:{SHOWN_PORT}", "LICENSE_SERVER_URL": f"http://127.0.0.1:{SHOWN_PORT}",
           "LICENSE_SERVER_TOKEN": "demo-token", "DRO_STATE_DIR": "/tmp/dro-try", "DRO_OPERATOR": "ann",
           "DRO_NOW": "2026-12-01T10:00:00Z"}


@dataclass(frozen=True)
class Step:
    name: str
    command: str  # as a user types it: `[NAME=value...] dro ARGS`, or the curl that clears the faults
    comment: str = ""
    try_it: bool = True  # shown in the "Try it" block (else run only for a sample)


SESSION = [
    Step("run", "dro run catalogs/laptop/orders/ORD-1001.yaml --catalog catalogs/laptop"),
    Step("complete", "dro complete ORD-1001 credit_check", "reserve fails: a retry in 30 s"),
    Step("tick-1", "DRO_NOW=2026-12-01T10:01:00Z dro tick", "the second try fails"),
    Step("tick-2", "DRO_NOW=2026-12-01T10:02:00Z dro tick", "the third"),
    Step("tick-3", "DRO_NOW=2026-12-01T10:03:00Z dro tick", "the fourth: in fallout"),
    Step("fallout", "dro fallout"),
    Step("back", f"curl -s -o /dev/null -X POST -d '{{}}' http://127.0.0.1:{SHOWN_PORT}/_faults",
         "the warehouse is back"),
    Step("retry", 'DRO_NOW=2026-12-01T11:00:00Z dro retry --queue inventory_fallout --all --reason "wms is back"'),
    Step("jeopardy", "DRO_NOW=2026-12-03T08:00:00Z dro jeopardy", "the installation is due in 3 hours"),
    Step("tick-4", "DRO_NOW=2026-12-03T08:00:00Z dro tick", "journals that crossing"),
    Step("log", "dro log ORD-1001"),
    Step("plan", "dro plan catalogs/laptop/orders/ORD-1001.yaml --catalog catalogs/laptop", try_it=False),
    Step("run-1002", "dro run catalogs/laptop/orders/ORD-1002.json --catalog catalogs/laptop", try_it=False),
    Step("status-1002", "dro status ORD-1002", try_it=False),
]

Selector = Callable[[list[str]], list[str]]


def _whole(lines: list[str]) -> list[str]:
    return lines


def _paragraph(first: str) -> Selector:
    """The lines from the one starting with `first` to the next blank line."""
    def select(lines: list[str]) -> list[str]:
        start = next(i for i, line in enumerate(lines) if line.startswith(first))
        end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
        return lines[start:end]
    return select


def _containing(text: str) -> Selector:
    return lambda lines: [line for line in lines if text in line]


# sample name -> the step whose output it shows, and which part of it
SAMPLES: dict[str, tuple[str, Selector]] = {
    "plan-inventory": ("plan", _paragraph("Inventory")),
    "status-requested": ("status-1002", lambda lines: lines[:1]),
    "fallout": ("fallout", _whole),
    "log-retry": ("log", _containing("retried")),
    "jeopardy": ("jeopardy", _whole),
    "tick": ("tick-4", _whole),
}
_MARKED = re.compile(r"(<!-- sample: (?P<name>[\w-]+)[^>]*-->\n```(?P<lang>\w*)\n)(?P<body>.*?)(```)", re.DOTALL)


def try_it_block() -> str:
    """The "Try it" session as a shell block's text."""
    exports = [f"{name}={value}" for name, value in EXPORTS.items()]
    lines = [SIMULATOR, "export " + " ".join(exports[:2]) + " \\", "       " + " ".join(exports[2:])]
    shown = [step for step in SESSION if step.try_it]
    width = max(len(step.command) for step in shown if step.comment)
    lines += [f"{step.command:<{width}}  # {step.comment}" if step.comment else step.command for step in shown]
    return "\n".join(lines) + "\n"


def sample_block(name: str, outputs: dict[str, str]) -> str:
    """A sample's text: `$ COMMAND`, then the part of its output SAMPLES names ("..." where lines are left out)."""
    step_name, select = SAMPLES[name]
    command = next(step.command for step in SESSION if step.name == step_name)
    lines = outputs[step_name].splitlines()
    chosen = select(lines)
    shown = [f"$ {command}", *chosen]
    if chosen != lines:
        first = lines.index(chosen[0]) if chosen else 0
        shown[1:1] = ["..."] if first > 0 else []
        shown += ["..."] if lines[first + len(chosen):] else []
    return "\n".join(shown) + "\n"


def expected_page(text: str, outputs: dict[str, str]) -> str:
    """The page with every marked block made anew. A marked block of an unknown name raises KeyError."""
    def made(match: re.Match[str]) -> str:
        name = match["name"]
        body = try_it_block() if name == "try-it" else sample_block(name, outputs)
        return match.group(1) + body + match.group(5)
    return _MARKED.sub(made, text)


def marked_names(text: str) -> list[str]:
    return [match["name"] for match in _MARKED.finditer(text)]


def run_session() -> dict[str, str]:
    """Every step's output, as the page shows it (the simulator's port as 8091, the state directory as
    /tmp/dro-try)."""
    with _simulator() as url, tempfile.TemporaryDirectory(prefix="dro-doc-") as state:
        port = url.rsplit(":", 1)[1]
        env: dict[str, str | None] = {name: value.replace(str(SHOWN_PORT), port) for name, value in EXPORTS.items()}
        env.update({"DRO_STATE_DIR": state, "NO_COLOR": "1", "DRO_CATALOG": None, "CARRIER_USER": None,
                    "CARRIER_PASSWORD": None})
        outputs = {}
        for step in SESSION:
            words = shlex.split(step.command)
            if words[0] == "curl":
                request = urllib.request.Request(words[-1].replace(str(SHOWN_PORT), port), data=b"{}",
                                                 method="POST")
                with urllib.request.urlopen(request, timeout=10) as answer:
                    answer.read()
                outputs[step.name] = ""
                continue
            assignments = {}
            while "=" in words[0]:
                name, _, value = words.pop(0).partition("=")
                assignments[name] = value
            assert words[0] == "dro", step.command
            outputs[step.name] = _normalized(_dro({**env, **assignments}, words[1:]), port, state)
        return outputs


def _dro(env: dict[str, str | None], args: list[str]) -> str:
    previous = Path.cwd()
    os.chdir(ROOT)
    try:
        result = CliRunner(env=env).invoke(cli, args, catch_exceptions=False, prog_name="dro")
    finally:
        os.chdir(previous)
    return str(result.output)


def _normalized(text: str, port: str, state: str) -> str:
    return text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{SHOWN_PORT}").replace(state, EXPORTS["DRO_STATE_DIR"])


@contextmanager
def _simulator() -> Iterator[str]:
    """The simulator as the page's first line starts it, on a free port: its URL."""
    module = _simulator_module()
    words = shlex.split(SIMULATOR.rstrip("& "))
    token = words[words.index("--token") + 1]
    fails = [words[i + 1] for i, word in enumerate(words) if word == "--fail"]
    with module.Simulator(token=token, faults=module.parse_faults(fails)) as running:
        yield str(running.url)


def _simulator_module() -> Any:
    name = "laptop_simulator"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "catalogs" / "laptop" / "simulator.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def regenerate() -> list[Path]:
    """Rewrite the page's marked blocks from a fresh run; the paths written."""
    text = PAGE.read_text(encoding="utf-8")
    PAGE.write_text(expected_page(text, run_session()), encoding="utf-8")
    return [PAGE]
