"""A plan with its steps' states as a Graphviz digraph: a cluster per swimlane, nodes filled by state."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dro_cli.output.views.palette import colour_of, stroke_of
from dro_cli.output.views.plan_text import lanes_in_order, undoes_live


def quoted(text: str) -> str:
    """A DOT quoted string: backslashes and double quotes escaped, line breaks as `\\n`, so an id
    or a label never ends the string early nor runs into the next statement."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n") + '"'


def render_dot(plan: Mapping[str, Any], states: Mapping[str, str] | None = None,
               superseded: Sequence[Mapping[str, Any]] = ()) -> str:
    """The digraph, left to right; `states` maps step ids to states (pending when missing). A compensation
    is dashed, says what it undoes, and has a dashed arrow from it; `superseded` (`order_status`'s) get a
    cluster per revision that superseded them; an amended order's graph is labelled with its revision."""
    states = states or {}
    revision = plan.get("revision", 1)
    title = quoted(f"order {plan['order']}, revision {revision}")
    lines = [f"digraph {quoted(str(plan['order']))} {{",
             *([f"  label={title}; labelloc=t;"] if revision > 1 else []),
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
            undoes = f"\nundoes {step['undoes']}" if step.get("undoes") else ""
            label = f"{step['id']}\n{step['type']} · {state}{undoes}"
            dashed = ', style="rounded,filled,dashed", penwidth=2' if step.get("undoes") else ""
            lines.append(f"    {quoted(step['id'])} [label={quoted(label)}, fillcolor={quoted(colour_of(state))}, "
                         f"color={quoted(stroke_of(state))}, tooltip={quoted(str(step.get('title', '')))}{dashed}];")
        lines.append("  }")
    ids = {step["id"] for step in plan["steps"]}
    for step in plan["steps"]:
        lines.extend(f"  {quoted(dep)} -> {quoted(step['id'])};" for dep in step["after"] if dep in ids)
    lines.extend(f'  {quoted(step["undoes"])} -> {quoted(step["id"])} [style=dashed, color="#7e22ce", label="undoes"];'
                 for step in plan["steps"] if undoes_live(step, ids, superseded))
    return "\n".join([*lines, *_superseded(superseded), "}"]) + "\n"


def _superseded(steps: Sequence[Mapping[str, Any]]) -> list[str]:
    """A cluster per revision that superseded instances, each node in the state it ended in; node ids say the
    revision, as an instance planned anew has its old one's id."""
    lines = []
    for revision in dict.fromkeys(step["superseded_by"] for step in steps):
        lines += [f"  subgraph {quoted(f'cluster_superseded_{revision}')} {{",
                  f"    label={quoted(f'Superseded by revision {revision}')};",
                  '    style="rounded,dashed"; color="#a8a29e";']
        for step in (s for s in steps if s["superseded_by"] == revision):
            label = f"{step['id']}\n{step['state']}, was {step['was']}"
            lines.append(f"    {quoted(f'superseded r{revision}: ' + step['id'])} [label={quoted(label)}, "
                         f"fillcolor={quoted(colour_of(step['state']))}, color={quoted(stroke_of(step['state']))}, "
                         f"tooltip={quoted(str(step.get('reason') or ''))}];")
        lines.append("  }")
    return lines
