"""A plan as a mermaid flowchart: one subgraph per swimlane, an arrow per dependency."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dro_cli.views.plan_text import lanes_in_order


def _label(text: str) -> str:
    """Text inside a quoted mermaid label: quotes and markup as entities, so nothing breaks out."""
    return (text.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;"))


def render_mermaid(plan: Mapping[str, Any]) -> str:
    node = {step["id"]: f"s{i}" for i, step in enumerate(plan["steps"])}
    lines = ["flowchart LR"]
    for n, lane in enumerate(lanes_in_order(plan)):
        title = plan["lanes"].get(lane, {}).get("title", lane) if lane else "(no lane)"
        lines.append(f'  subgraph lane{n}["{_label(str(title))}"]')
        for step in (s for s in plan["steps"] if s["lane"] == lane):
            lines.append(f'    {node[step["id"]]}["{_label(step["id"])}<br/>{step["type"]}"]')
        lines.append("  end")
    for step in plan["steps"]:
        lines.extend(f"  {node[dep]} --> {node[step['id']]}" for dep in step["after"])
    return "\n".join(lines) + "\n"
