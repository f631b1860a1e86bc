"""An order's plan as one self-contained HTML page: lanes, steps coloured by state, arrows, details.

The page is rendered from `templates/plan.html.j2` in Jinja's sandbox with autoescape on, so
every value that comes from an order or a catalog is escaped. The stylesheet and the script
(`templates/plan.css`, `templates/plan.js`) are inlined, and the data the script shows go in
as JSON that cannot end its `<script>` element: the page loads nothing from anywhere.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from typing import Any

from dro_cli.engine.instants import iso
from dro_cli.engine.states import FINISHED, StepState, StepType
from dro_cli.engine.waiting import describe
from dro_cli.output.views.amendment_text import amendment_line
from dro_cli.output.views.layout import BOX_WIDTH, CHAR_WIDTH, GUTTER, TEXT_PADDING, Box, Layout, arrow, fit, layout
from dro_cli.output.views.palette import STATE_COLOURS, STATE_STROKES, STEP_STATES
from dro_cli.output.views.plan_text import lanes_in_order, undoes_live
from dsl.durations import format_duration

TEMPLATES = "templates"
BADGE_CHAR = 6.5  # the advance of a badge's (10px bold) characters
TITLE_CHAR = 8.0  # the mean advance of a lane title's (14px bold) characters
TEXT_WIDTH = BOX_WIDTH - 2 * TEXT_PADDING


def render_html(plan: Mapping[str, Any], status: Mapping[str, Any], at: float) -> str:
    """The page for an order: its plan (`plan.json`) and its status at `at` (`order_status`)."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment
    from markupsafe import Markup

    env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
    template = env.from_string(_read("plan.html.j2"))
    titles = {lane: str(info.get("title", lane)) for lane, info in plan["lanes"].items()}
    drawing = layout(plan["steps"], lanes_in_order(plan), titles)
    steps = {step["id"]: step for step in status["steps"]}
    return template.render(
        status=status, at=iso(at), order=_order_facts(plan), waiting=[describe(dict(w)) for w in status["waiting_on"]],
        revision=status.get("revision", 1), amendments=_amendments(status), superseded=_superseded(status),
        undo_edges=_undo_edges(steps.values(), drawing, status.get("superseded") or ()),
        legend=_legend([*status["steps"], *(status.get("superseded") or ())]),  # every state the page shows
        colours=STATE_COLOURS, strokes=STATE_STROKES, drawing=drawing,
        lanes=_lanes(plan, steps, drawing), gutter=GUTTER,
        css=Markup(_read("plan.css")), js=Markup(_read("plan.js")),  # our own files, as they are
        data=Markup(script_json(_page_data(plan, status, titles))),  # safe in <script>: see script_json
    )


def script_json(data: Any) -> str:
    """JSON to put inside a `<script>` element: every `<` escaped, so no `</script>` or `<!--` ends it."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True).replace("<", "\\u003c")


def _read(name: str) -> str:
    return resources.files("dro_cli.output.views").joinpath(TEMPLATES, name).read_text(encoding="utf-8")


def _order_facts(plan: Mapping[str, Any]) -> dict[str, Any]:
    order = plan["context"]["order"]
    attributes = order.get("attributes") or {}
    return {"account": order.get("account"),
            "attributes": [(str(name), _text(value)) for name, value in sorted(attributes.items())]}


def _amendments(status: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each amendment in a line: who, what it did, when, and why."""
    return [{"revision": a["revision"], "operator": a.get("operator") or "unknown", "what": amendment_line(a),
             "at": a["at"], "reason": a.get("reason")} for a in status.get("amendments") or ()]


def _superseded(status: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The instances amendments took out of the live plan, grouped by the revision that superseded them."""
    groups: dict[int, list[Mapping[str, Any]]] = {}
    for step in status.get("superseded") or ():
        groups.setdefault(step["superseded_by"], []).append(step)
    return [{"revision": revision, "steps": [{**step, "why": (step["reason"] or "").removeprefix(f"{step['was']}; ")}
                                             for step in steps]}
            for revision, steps in groups.items()]


def _undo_edges(steps: Iterable[Mapping[str, Any]], drawing: Layout,
                superseded: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """A dashed arrow from a step still in the live plan to the compensation that undoes it (`undoes_live`)."""
    return [{"source": step["undoes"], "target": step["id"], "path": arrow(drawing.boxes[step["undoes"]],
                                                                            drawing.boxes[step["id"]])}
            for step in steps if undoes_live(step, drawing.boxes, superseded)]


def _legend(steps: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    for step in steps:
        counts[step["state"]] = counts.get(step["state"], 0) + 1
    return [{"state": state, "count": counts.get(state, 0)} for state in STEP_STATES]


def _lanes(plan: Mapping[str, Any], steps: Mapping[str, Mapping[str, Any]], drawing: Layout) -> list[dict[str, Any]]:
    """Each lane row with the drawing of its steps, in plan order."""
    by_lane: dict[str | None, list[dict[str, Any]]] = {row.lane: [] for row in drawing.lanes}
    for step in plan["steps"]:
        by_lane[step["lane"]].append(_drawn(step, steps[step["id"]], drawing.boxes[step["id"]]))
    room = GUTTER - 2 * 12
    return [{"row": row, "title": fit(row.title, room * CHAR_WIDTH / TITLE_CHAR),
             "id_line": fit(row.lane, room) if row.lane and row.lane != row.title else "", "steps": by_lane[row.lane]}
            for row in drawing.lanes]


def _drawn(step: Mapping[str, Any], status: Mapping[str, Any], box: Box) -> dict[str, Any]:
    """What one step's box shows: its id, title, type and state, and what it waits for or why it failed."""
    state, sla = status["state"], status["sla"]
    badge = None
    label_room: float = TEXT_WIDTH
    if sla in ("jeopardy", "late") and state not in FINISHED:
        width = len(sla) * BADGE_CHAR + 12
        badge = {"sla": sla, "width": width, "x": BOX_WIDTH - width - 5}
        label_room -= width + 4
    meta = f"{status['type']} · {state}" + (f" · try {status['attempts']}" if status["attempts"] > 1 else "")
    extra = _extra(step, status)
    undoes = status.get("undoes")
    if undoes and extra is not None:  # the line that says what it undoes comes first: the rest on one line
        extra = (extra[0], ["".join(extra[1])])
    lines = None if extra is None else {"kind": extra[0], "lines": [fit(line, TEXT_WIDTH) for line in extra[1]]}
    return {"id": status["id"], "lane": status["lane"], "state": state, "sla": sla, "type": status["type"],
            "title": status["title"], "box": box, "badge": badge, "label": fit(status["id"], label_room),
            "title_line": fit(status["title"], TEXT_WIDTH), "meta": fit(meta, TEXT_WIDTH),
            "extra": lines, "undoes": undoes, "compensates": status.get("compensates"),
            "undoes_line": fit(f"↶ undoes {undoes}", TEXT_WIDTH) if undoes else None,
            "revision": status.get("revision", 1)}


def _extra(step: Mapping[str, Any], status: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    """(class, lines) of a box's last two lines: a fallout's error and queue, a retry's time, a manual
    step's queue, what a pause waits for. The lines but the last end with a space, so that the
    element's text reads as one phrase."""
    state, kind = status["state"], status["type"]
    if state == StepState.FATALLY_FAILED:
        code = (status["error"] or {}).get("code") or "error"
        return "step-error", [f"✖ {code} ", f"queue {status['queue'] or 'fallout'}"]
    if state == StepState.FAILED and status["retry_at"]:
        return "step-retry", [f"retry {_short(status['retry_at'])}"]
    if kind == StepType.MANUAL and status["queue"] and state not in FINISHED:
        return "step-queue", [f"queue {status['queue']}"]
    if kind == StepType.PAUSE and state not in FINISHED:
        waits = _pause_waits(step, status)
        return ("step-wait", [w + " " for w in waits[:-1]] + waits[-1:]) if waits else None
    return None


def _pause_waits(step: Mapping[str, Any], status: Mapping[str, Any]) -> list[str]:
    """What a pause waits for: its event, or its resume time (or how long after it is held)."""
    waits = []
    event = _event(step)
    if event:
        waits.append(f"event {event}")
    if status["resume_at"]:
        waits.append(("or " if event else "") + f"until {_short(status['resume_at'])}")
    elif (step.get("config") or {}).get("resume_after") is not None:
        waits.append(("or " if event else "") + f"{format_duration(step['config']['resume_after'])} on hold")
    return waits


def _event(step: Mapping[str, Any]) -> str | None:
    event = ((step.get("config") or {}).get("resume_on") or {}).get("event")
    return None if event is None else str(event)


def _page_data(plan: Mapping[str, Any], status: Mapping[str, Any], titles: Mapping[str, str]) -> dict[str, Any]:
    """What the script shows in the details, by step id."""
    items = plan["context"].get("items") or {}
    states = {state["id"]: state for state in status["steps"]}
    steps: dict[str, Any] = {}
    for step in plan["steps"]:
        state = states[step["id"]]
        extra = {"lane_title": titles.get(step["lane"], step["lane"]) if step["lane"] else "(no lane)",
                 "item": step.get("item"), "bundle": step.get("bundle"),
                 "product": (items.get(step.get("item")) or {}).get("product"), "event": _event(step),
                 "duration": _duration(step.get("duration")), "jeopardy": _duration(step.get("jeopardy"))}
        steps[state["id"]] = {**state, **extra}
    return {"order": status["order"], "steps": steps}


def _duration(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return format_duration(seconds)


def _short(instant: str) -> str:
    """An instant in a box: `2026-12-01 10:00` (the details have it whole)."""
    return instant[:16].replace("T", " ")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
