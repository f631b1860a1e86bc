"""docs/performance.md, written from benchmarks/performance.md (the prose, kept by hand) and the
figures of one run of every benchmark (`python benchmarks/run.py --write-docs`), never by hand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from common import ROOT, Result

TEMPLATE = ROOT / "benchmarks" / "performance.md"
OUTPUT = ROOT / "docs" / "performance.md"
MARKER = "<!-- figures -->"  # where the template takes this run's figures
HEADER = ("<!-- Written by `python benchmarks/run.py --write-docs` from benchmarks/performance.md and one run's "
          "figures. Edit that file, not this one. -->\n")


def write(results: Sequence[Result], before: Mapping[str, Any], after: Mapping[str, Any], seconds: float,
          repeat: int) -> Path:
    text = TEMPLATE.read_text(encoding="utf-8")
    if text.count(MARKER) != 1:
        raise SystemExit(f"{TEMPLATE}: expected one {MARKER} line, where the figures go")
    OUTPUT.write_text(HEADER + text.replace(MARKER, figures(results, before, after, seconds, repeat)),
                      encoding="utf-8")
    return OUTPUT


def figures(results: Sequence[Result], before: Mapping[str, Any], after: Mapping[str, Any], seconds: float,
            repeat: int) -> str:
    """The measured-figures section: the run's circumstances, a table of every result, their notes."""
    load = " / ".join(f"{x:.2f}" for x in before["load"])
    load_after = " / ".join(f"{x:.2f}" for x in after["load"])
    lines = [
        f"Measured at commit `{before['commit']}` on {before['date']}: Python {before['python']}, "
        f"{before['cpus']} CPUs; load average {load} (1, 5, 15 min) before the run, {load_after} after; "
        f"{seconds:.0f} s in all, {repeat} rounds per benchmark unless its notes say otherwise. Each "
        "figure is the median of its rounds, interleaved with its baseline's, their min-max in brackets.",
        "",
        "| Benchmark | Figure | Baseline | Ratio | Target | Result |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.status == "ERROR":
            lines.append(f"| {r.name} | - | - | - | - | ERROR: {_cell(r.error or '')} |")
            continue
        status = f"**{r.status}**" if r.status == "FAIL" else r.status
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        lines.append(f"| {r.name} | {r.shown(r.seconds, r.spread)} | {_cell(r.baseline_name)} "
                     f"{r.shown(r.baseline, r.baseline_spread)} | {ratio} | {r.target_text()} | {status} |")
    noted = [r for r in results if r.notes]
    if noted:
        lines += ["", "Notes of this run:", ""]
        for r in noted:
            lines.append(f"- **{r.name}**: " + "; ".join(_cell(note) for note in r.notes))
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
