"""A plan as a mermaid flowchart: one subgraph per swimlane, an arrow per dependency; with the steps'
states (`dro view --format mermaid`), each node in its state's class, coloured as the html view does.
An amended order's chart is titled with its revision; a compensation is dashed, says what it undoes and
has a dotted arrow from it; the instances amendments superseded have a subgraph per revision."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from dro_cli.output.views.palette import STATE_COLOURS, STATE_STROKES
from dro_cli.output.views.plan_text import lanes_in_order, undoes_live


def _label(text: str) -> str:
    """Text inside a quoted mermaid label: quotes and markup as entities, so nothing breaks out."""
    return (text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;"))


def render_mermaid(plan: Mapping[str, Any], states: Mapping[str, str] | None = None,
                   superseded: Sequence[Mapping[str, Any]] = ()) -> str:
    """The flowchart; with `states` (step id -> state), each node says its state and has its state's class;
    `superseded` (`order_status`'s) are drawn apart, in the state they ended in."""
    node = {step["id"]: f"s{i}" for i, step in enumerate(plan["steps"])}
    revision = plan.get("revision", 1)
    lines = [*(["---", f"title: {_title(plan['order'], revision)}", "---"] if revision > 1 else []), "flowchart LR"]
    for n, lane in enumerate(lanes_in_order(plan)):
        title = plan["lanes"].get(lane, {}).get("title", lane) if lane else "(no lane)"
        lines.append(f'  subgraph lane{n}["{_label(str(title))}"]')
        for step in (s for s in plan["steps"] if s["lane"] == lane):
            kind = step["type"] if states is None else f"{step['type']} · {states.get(step['id'], 'pending')}"
            undoes = f"<br/>{_label('undoes ' + step['undoes'])}" if step.get("undoes") else ""
            lines.append(f'    {node[step["id"]]}["{_label(step["id"])}<br/>{_label(kind)}{undoes}"]')
        lines.append("  end")
    for step in plan["steps"]:
        lines.extend(f"  {node[dep]} --> {node[step['id']]}" for dep in step["after"] if dep in node)
    compensations = [node[step["id"]] for step in plan["steps"] if step.get("undoes")]
    lines.extend(f"  {node[step['undoes']]} -.->|undoes| {node[step['id']]}" for step in plan["steps"]
                 if undoes_live(step, node, superseded))
    old = {f"x{i}": step for i, step in enumerate(superseded)}
    for revision in dict.fromkeys(step["superseded_by"] for step in superseded):
        lines.append(f'  subgraph superseded{revision}["Superseded by revision {revision}"]')
        lines.extend(f'    {name}["{_label(step["id"])}<br/>{_label(step["state"] + ", was " + step["was"])}"]'
                     for name, step in old.items() if step["superseded_by"] == revision)
        lines.append("  end")
    if states is not None:
        lines += _state_classes([(name, states.get(sid, "pending")) for sid, name in node.items()]
                                + [(name, step["state"]) for name, step in old.items()])
    if compensations:
        lines += ["  classDef compensation stroke-dasharray:5 3,stroke-width:2px",
                  f"  class {','.join(compensations)} compensation"]
    return "\n".join(lines) + "\n"


def _title(order: str, revision: int) -> str:
    """The chart's title as a JSON string, which YAML reads: an order id may hold a colon or a quote."""
    return json.dumps(f"order {order}, revision {revision}")


def _state_classes(nodes: Sequence[tuple[str, str]]) -> list[str]:
    """A class per step state (`state_completed`, ...) with its colours, and the nodes (name, state) in each."""
    lines = [f"  classDef state_{state} fill:{fill},stroke:{STATE_STROKES[state]},color:#111827"
             for state, fill in STATE_COLOURS.items()]
    members: dict[str, list[str]] = {}
    for name, state in nodes:
        members.setdefault(state, []).append(name)
    lines += [f"  class {','.join(names)} state_{state}" for state, names in members.items() if state in STATE_COLOURS]
    return lines
