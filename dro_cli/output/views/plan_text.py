"""A plan as text: steps by swimlane, with scope, item, dependencies and SLA settings."""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from typing import Any

import click

from dsl.durations import format_duration


def undoes_live(step: Mapping[str, Any], live: Container[str], superseded: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a compensation undoes an instance still in the live plan (an `on_amend`'s step, which completed and
    is not run again), not one its revision superseded: an amended instance is planned anew under its old id."""
    undone = step.get("undoes")
    return undone is not None and undone in live and not any(
        old["id"] == undone and old["superseded_by"] == step.get("revision") for old in superseded)


def lanes_in_order(plan: Mapping[str, Any]) -> list[str | None]:
    """Lanes in the order their first step runs, so the view reads like the flow."""
    seen: dict[str | None, None] = {}
    for step in plan["steps"]:
        seen.setdefault(step["lane"], None)
    return list(seen)


def render_plan(plan: Mapping[str, Any]) -> str:
    steps = plan["steps"]
    lanes = lanes_in_order(plan)
    head = click.style(f"Plan for order {plan['order']}", bold=True)
    lines = [f"{head}: {len(steps)} steps in {len(lanes)} lanes (templates {plan['templates'][:19]}…)"]
    width = max((len(s["id"]) for s in steps), default=0)
    for lane in lanes:
        title = plan["lanes"].get(lane, {}).get("title", lane) if lane else "(no lane)"
        lines += ["", click.style(f"{title}", bold=True, fg="cyan") + (f"  [{lane}]" if lane else "")]
        for step in (s for s in steps if s["lane"] == lane):
            lines.append(f"  {step['id']:<{width}}  {step['type']:<9} {_scope(step):<22} {_settings(step)}".rstrip())
            if step["after"]:
                lines.append(f"  {'':<{width}}  after {', '.join(step['after'])}")
            for override in step.get("fallout") or ():
                lines.append(f"  {'':<{width}}  on {override['error']}: {_fallout(override) or 'no retry'}")
    return "\n".join(lines)


def _scope(step: Mapping[str, Any]) -> str:
    if step["scope"] == "line_item":
        return f"item {step['item']}"
    if step["scope"] == "bundle":
        return f"bundle {step['bundle']}"
    return "plan"


def _settings(step: Mapping[str, Any]) -> str:
    parts = []
    if step["duration"] is not None:
        parts.append(f"sla {format_duration(step['duration'])}")
    if step["jeopardy"] is not None:
        parts.append(f"jeopardy {format_duration(step['jeopardy'])}")
    return "  ".join([*parts, _fallout(step)]).strip()


def _fallout(settings: Mapping[str, Any]) -> str:
    """`retry ...  queue Q` of a step, or of one of its overrides by error code."""
    parts = []
    if settings["retry"]:
        parts.append(f"retry {retry_text(settings['retry'])}")
    if settings["queue"]:
        parts.append(f"queue {settings['queue']}")
    return "  ".join(parts)


def retry_text(retry: Mapping[str, Any]) -> str:
    """A retry policy in short: `monotonous 3x30s`, `staggered 10s,1m,5m`, `exponential 3x from 30s`."""
    policy = retry["policy"]
    if policy == "staggered":
        return "staggered " + ",".join(format_duration(i) for i in retry["intervals"])
    if policy == "monotonous":
        return f"monotonous {retry['retries']}x{format_duration(retry['interval'])}"
    if policy == "exponential":
        return f"exponential {retry['retries']}x from {format_duration(retry['initial'])}"
    return f"immediate {retry['retries']}x"
