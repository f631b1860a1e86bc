"""A plan with its steps' states as a Graphviz digraph: a cluster per swimlane, nodes filled by state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dro_cli.output.views.palette import colour_of, stroke_of
from dro_cli.output.views.plan_text import lanes_in_order


def quoted(text: str) -> str:
    """A DOT quoted string: backslashes and double quotes escaped, line breaks as `\\n`, so an id
    or a label never ends the string early nor runs into the next statement."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n") + '"'


def render_dot(plan: Mapping[str, Any], states: Mapping[str, str] | None = None) -> str:
    """The digraph, left to right; `states` maps step ids to states (pending when missing)."""
    states = states or {}
    lines = [f"digraph {quoted(str(plan['order']))} {{",
             "  rankdir=LR;",
             '  graph [fontname="Helvetica", fontsize=12, labeljust=l, nodesep=0.25, ranksep=0.6];',
             '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
             '  edge [color="#64748b"];']
    for n, lane in enumerate(lanes_in_order(plan)):
        title = plan["lanes"].get(lane, {}).get("title", lane) if lane else "(no lane)"
        lines += [f"  subgraph {quoted(f'cluster_{n}')} {{",
                  f"    label={quoted(str(title))};",
                  '    style="rounded,filled"; fillcolor="#f8fafc"; color="#cbd5e1";']
        for step in (s for s in plan["steps"] if s["lane"] == lane):
            state = states.get(step["id"], "pending")
            label = f"{step['id']}\n{step['type']} · {state}"
            lines.append(f"    {quoted(step['id'])} [label={quoted(label)}, fillcolor={quoted(colour_of(state))}, "
                         f"color={quoted(stroke_of(state))}, tooltip={quoted(str(step.get('title', '')))}];")
        lines.append("  }")
    ids = {step["id"] for step in plan["steps"]}
    for step in plan["steps"]:
        lines.extend(f"  {quoted(dep)} -> {quoted(step['id'])};" for dep in step["after"] if dep in ids)
    return "\n".join([*lines, "}"]) + "\n"
