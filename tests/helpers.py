"""Small helpers shared by the tests."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dsl.diagnostics import Span


def source_of(text: str, span: Span) -> str:
    """The text a span covers (1-based lines and columns, end exclusive)."""
    lines = text.split("\n")
    if span.line == span.end_line:
        return lines[span.line - 1][span.col - 1:span.end_col - 1]
    middle = lines[span.line:span.end_line - 1]
    return "\n".join([lines[span.line - 1][span.col - 1:], *middle, lines[span.end_line - 1][:span.end_col - 1]])


def mutate(draw: Any, text: str, fragments: Sequence[str]) -> str:
    """`text` after 1 to 4 random edits: insert a fragment, delete a run, swap or repeat lines.

    `draw` is a hypothesis draw function (inside an st.composite strategy).
    """
    from hypothesis import strategies as st

    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "swap_lines", "duplicate_line"]))
        if action == "insert":
            fragment = draw(st.sampled_from(list(fragments)) | st.text(st.characters(codec="utf-8"), max_size=3))
            text = text[:at] + fragment + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        else:
            lines = text.splitlines(keepends=True) or [""]
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if action == "swap_lines":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines.insert(j, lines[i])
            text = "".join(lines)
    return text


@contextmanager
def catalog_with(texts: Mapping[Path, str], original: Path, text: str) -> Iterator[Path]:
    """A copy of `original`'s catalog (its siblings among `texts`) in which `original` reads `text`."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "catalog"
        copy.mkdir()
        for sibling, sibling_text in texts.items():
            if sibling.parent == original.parent:
                (copy / sibling.name).write_text(text if sibling == original else sibling_text, encoding="utf-8")
        yield copy


# ---- child processes of bounded memory and time ---------------------------------------------

_ROOT = Path(__file__).resolve().parent.parent
MEMORY_LIMIT = 1024 * 1024 * 1024  # address space: the interpreter and its libraries take about 300 MB
TIME_LIMIT = 60  # seconds for one command; each takes about one, the inputs once took forever


def bounded(*args: str, cwd: Path = _ROOT, timeout: float = TIME_LIMIT,
            memory: int = MEMORY_LIMIT) -> subprocess.CompletedProcess[str]:
    """`python ARGS` in a child process whose address space is capped at `memory` bytes; a hang fails at `timeout`."""

    def cap_memory() -> None:  # in the child, before it runs
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    env = {**os.environ, "NO_COLOR": "1", "DRO_DEBUG": "1", "DRO_NOW": "2026-12-01T10:00:00Z"}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=cap_memory)


def assert_no_internal_error(done: subprocess.CompletedProcess[str]) -> None:
    output = done.stdout + done.stderr
    assert "Traceback" not in output and "internal error" not in output and "MemoryError" not in output, output


def replan(order_dir: Path, plan: Mapping[str, Any]) -> None:
    """Write `plan` as the order's plan.json and re-chain its journal to it, as if the order had been
    planned so (dro refuses a plan.json that is not the one `plan.created` hashed: DRO516). For the
    tests of a plan that an older or buggy dro might have written and the engine trips on."""
    import hashlib
    import json

    from dro_cli.journal.records import ZERO_CHECKSUM, canonical

    data = json.dumps(plan, sort_keys=True, indent=2).encode()
    (order_dir / "plan.json").write_bytes(data)
    journal = order_dir / "journal.jsonl"
    records = [json.loads(line) for line in journal.read_bytes().splitlines()]
    records[0]["payload"]["plan_sha256"] = hashlib.sha256(data).hexdigest()
    last, lines = ZERO_CHECKSUM, []
    for record in records:
        record.pop("checksum")
        body = canonical(record)
        last = hashlib.sha256(last.encode() + body).hexdigest()
        lines.append(canonical({**record, "checksum": last}) + b"\n")
    journal.write_bytes(b"".join(lines))
    for cache in ("snapshot.json", "digest.json"):
        (order_dir / cache).unlink(missing_ok=True)
