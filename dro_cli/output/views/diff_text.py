"""A plan difference as text, like `terraform plan`: `+` added, `-` removed, `~` changed, then a summary.

The lines are shared with the markdown view; values read as in `dro plan`'s text view
(durations `4h`, retry policies `monotonous 3x30s`), every string on one line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import click

from dro_cli.diff.plans import Change, PlanDiff
from dro_cli.diff.templates import TemplateDiff
from dro_cli.output.views.plan_text import retry_text as plan_retry_text
from dsl.durations import format_duration

Line = tuple[str, str]  # (sign: "+", "-" or "~", text)
COLOURS = {"+": "green", "-": "red", "~": "yellow"}
# Fields whose numbers are seconds, wherever they appear (a step, a rule, a retry policy, an endpoint).
DURATIONS = frozenset({"duration", "jeopardy", "timeout", "interval", "initial", "max", "resume_after"})
_BARE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@/\-]*\Z")
_KEYWORDS = frozenset({"none", "true", "false"})


def clean(text: str) -> str:
    """`text` with every character a terminal could act on (controls, escapes) written as an escape."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def show(name: str, value: Any) -> str:
    """A value of field `name` on one line: durations humanly, identifiers bare, other text quoted."""
    leaf = name.rsplit(".", 1)[-1]
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_duration(value) if leaf in DURATIONS else str(value)
    if isinstance(value, str):
        return value if _BARE.match(value) and value not in _KEYWORDS else clean(json.dumps(value, ensure_ascii=False))
    if isinstance(value, Mapping):
        if leaf == "retry" and "policy" in value:
            return retry_text(value)
        if name.startswith("fallout.") and set(value) <= {"retry", "queue"}:
            return ", ".join(f"{key} {show(key, value.get(key))}" for key in ("retry", "queue"))
        return "{" + ", ".join(f"{clean(str(k))}: {show(str(k), v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence):
        if leaf == "after":
            return "[" + ", ".join(_dependency(d) for d in value) + "]"
        element = "interval" if leaf == "intervals" else leaf
        return "[" + ", ".join(show(element, v) for v in value) + "]"
    return clean(str(value))


def retry_text(retry: Mapping[str, Any]) -> str:
    """A retry policy as `dro plan` shows it, with an exponential policy's factor and cap, so that a change
    of either shows too."""
    text = plan_retry_text(retry)
    if retry.get("policy") == "exponential":
        if retry.get("factor") is not None:
            text += f" factor {retry['factor']}"
        if retry.get("max") is not None:
            text += f" max {format_duration(retry['max'])}"
    return text


def _dependency(dependency: Any) -> str:
    if isinstance(dependency, Mapping) and "step" in dependency:
        within = dependency.get("within")
        return clean(str(dependency["step"])) + (f" within {within}" if within else "")
    return show("", dependency)


def describe(change: Change) -> str:
    """`duration 8h -> 4h`; a config field by its own name, a fallout override as `on CODE`; a list of
    distinct values by what joins and leaves it: `steps + notify, - install`."""
    name = change.field
    if name.startswith("fallout."):
        code, dot, part = name.removeprefix("fallout.").rpartition(".")
        label = f"on {code} {part}" if dot and part in ("retry", "queue") else "on " + name.removeprefix("fallout.")
    else:
        label = name.removeprefix("config.")
    old, new = change.old, change.new
    if name != "intervals" and _members(old) and _members(new) and set(old) != set(new):
        parts = [f"+ {show(name, v)}" for v in new if v not in old]
        parts += [f"- {show(name, v)}" for v in old if v not in new]
        return f"{clean(label)} {', '.join(parts)}"
    return f"{clean(label)} {show(name, old)} -> {show(name, new)}"


def _members(value: Any) -> bool:
    """Whether `value` is a list of distinct plain values (step ids, status codes), shown as what joins and leaves."""
    return (isinstance(value, list) and all(isinstance(v, str | int) for v in value)
            and len(set(value)) == len(value))


def counts(add: int, remove: int, change: int) -> str:
    return f"{add} to add, {remove} to remove, {change} to change"


def plan_counts(plan: PlanDiff) -> str:
    return counts(len(plan.added), len(plan.removed), len(plan.changed))


def template_counts(templates: TemplateDiff) -> str:
    return counts(len(templates.added), len(templates.removed), len(templates.changed))


def order_lines(plan: PlanDiff) -> list[Line]:
    """Instances added, removed, changed (a line per field and per dependency), then fulfillment items."""
    lines: list[Line] = [("+", _instance(ref.id, ref.lane, ref.scope)) for ref in plan.added]
    lines += [("-", _instance(ref.id, ref.lane, ref.scope)) for ref in plan.removed]
    for instance in plan.changed:
        name = clean(instance.id)
        lines += [("~", f"{name}: {describe(change)}") for change in instance.changes]
        lines += [("~", f"{name}: after + {clean(dep)}") for dep in instance.after_added]
        lines += [("~", f"{name}: after - {clean(dep)}") for dep in instance.after_removed]
    lines += [("+", f"item {clean(item.id)}  ({clean(item.product)})") for item in plan.items_added]
    lines += [("-", f"item {clean(item.id)}  ({clean(item.product)})") for item in plan.items_removed]
    for item in plan.items_changed:
        lines += [("~", f"item {clean(item.id)}: {describe(change)}") for change in item.changes]
    return lines


def _instance(instance_id: str, lane: str | None, scope: str) -> str:
    return f"{clean(instance_id)}  ({clean(lane) if lane else 'no lane'}, {clean(scope)})"


def template_lines(templates: TemplateDiff) -> list[Line]:
    lines: list[Line] = [("+", f"{entry.kind} {clean(entry.id)}") for entry in templates.added]
    lines += [("-", f"{entry.kind} {clean(entry.id)}") for entry in templates.removed]
    for entry in templates.changed:
        lines += [("~", f"{entry.kind} {clean(entry.id)}: {describe(change)}") for change in entry.changes]
    return lines


def total_text(report: Any) -> str:
    """The overall summary: how many orders plan differently, the instance counts, the template counts."""
    totals = report.totals()
    orders = f"{totals['orders_changed']} of {totals['orders']} order{'s' if totals['orders'] != 1 else ''}"
    verb = "plans" if totals["orders_changed"] == 1 else "plan"
    return (f"{orders} {verb} differently: {counts(totals['add'], totals['remove'], totals['change'])}; "
            f"templates: {template_counts(report.templates)}.")


def render_text(report: Any) -> str:
    """The whole difference, styled with click.style (the caller's echo strips it where colour is off)."""
    if not report.differences:
        plural = "s" if len(report.orders) != 1 else ""
        return (f"No differences: {len(report.orders)} order{plural} plan the same with both catalogs, "
                "and their templates are the same.")
    out: list[str] = []
    for order in report.orders:
        if order.plan.empty:
            continue
        out.append(click.style(f"{clean(order.order)}", bold=True) + f"  ({clean(order.file)})")
        out += [_styled(line) for line in order_lines(order.plan)]
        out.append("")
    if not report.templates.empty:
        out.append(click.style("Templates", bold=True))
        out += [_styled(line) for line in template_lines(report.templates)]
        out.append("")
    out.append(click.style("Summary", bold=True))
    for order in report.orders:
        out.append(f"  {order_name(report, order)}: " +
                   ("no differences" if order.plan.empty else plan_counts(order.plan)))
    out.append(f"  templates: {template_counts(report.templates)}")
    out += ["", click.style(total_text(report), bold=True)]
    return "\n".join(out)


def order_name(report: Any, order: Any) -> str:
    """An order's id, and its file's name when another sample order has the same id (its revisions)."""
    name = clean(order.order)
    if sum(other.order == order.order for other in report.orders) > 1:
        name += f" ({clean(order.file.rsplit('/', 1)[-1])})"
    return name


def _styled(line: Line) -> str:
    sign, text = line
    return "  " + click.style(f"{sign} {text}", fg=COLOURS[sign])
