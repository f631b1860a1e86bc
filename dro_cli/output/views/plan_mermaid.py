"""A plan as a mermaid flowchart: one subgraph per swimlane, an arrow per dependency; with the steps'
states (`dro view --format mermaid`), each node in its state's class, coloured as the html view does."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dro_cli.output.views.palette import STATE_COLOURS, STATE_STROKES
from dro_cli.output.views.plan_text import lanes_in_order


def _label(text: str) -> str:
    """Text inside a quoted mermaid label: quotes and markup as entities, so nothing breaks out."""
    return (text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;"))


def render_mermaid(plan: Mapping[str, Any], states: Mapping[str, str] | None = None) -> str:
    """The flowchart; with `states` (step id -> state), each node says its state and has its state's class."""
    node = {step["id"]: f"s{i}" for i, step in enumerate(plan["steps"])}
    lines = ["flowchart LR"]
    for n, lane in enumerate(lanes_in_order(plan)):
        title = plan["lanes"].get(lane, {}).get("title", lane) if lane else "(no lane)"
        lines.append(f'  subgraph lane{n}["{_label(str(title))}"]')
        for step in (s for s in plan["steps"] if s["lane"] == lane):
            kind = step["type"] if states is None else f"{step['type']} · {states.get(step['id'], 'pending')}"
            lines.append(f'    {node[step["id"]]}["{_label(step["id"])}<br/>{_label(kind)}"]')
        lines.append("  end")
    for step in plan["steps"]:
        lines.extend(f"  {node[dep]} --> {node[step['id']]}" for dep in step["after"] if dep in node)
    if states is not None:
        lines += _state_classes(node, states)
    return "\n".join(lines) + "\n"


def _state_classes(node: Mapping[str, str], states: Mapping[str, str]) -> list[str]:
    """A class per step state (`state_completed`, ...) with its colours, and the nodes in each."""
    lines = [f"  classDef state_{state} fill:{fill},stroke:{STATE_STROKES[state]},color:#111827"
             for state, fill in STATE_COLOURS.items()]
    members: dict[str, list[str]] = {}
    for sid, name in node.items():
        members.setdefault(states.get(sid, "pending"), []).append(name)
    lines += [f"  class {','.join(names)} state_{state}" for state, names in members.items() if state in STATE_COLOURS]
    return lines
