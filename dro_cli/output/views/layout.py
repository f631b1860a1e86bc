"""Lay a plan out for drawing: a row per swimlane, a column per dependency depth, a box per step.

Pure geometry, no I/O. A step's depth is 0 without dependencies, else 1 + the deepest of
its dependencies, across lanes. Steps of one lane at one depth stack in that lane's row,
which grows to hold the tallest stack. Boxes have one fixed size, so no two overlap and
each lies inside its lane's row; labels are cut to fit (`fit`). Arrows run from the right
edge of a dependency to the left edge of its dependent.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

BOX_WIDTH = 220
BOX_HEIGHT = 88  # five lines of label
COLUMN_GAP = 64  # between the columns of depths: room for the arrows
STACK_GAP = 14  # between the boxes stacked in one lane at one depth
LANE_PADDING = 16  # above the first box and below the last one of a lane
GUTTER = 184  # on the left of every lane row, for its title
CHAR_WIDTH = 7.3  # the advance of one character of the monospace label font (12px)
TEXT_PADDING = 8  # between a box's edge and its text


@dataclass(frozen=True, slots=True)
class Box:
    step: str
    lane: str | None
    depth: int
    slot: int  # its place in the stack of its lane at its depth, from the top
    x: float
    y: float
    width: float = BOX_WIDTH
    height: float = BOX_HEIGHT

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True, slots=True)
class LaneRow:
    lane: str | None
    title: str
    y: float
    height: float
    width: float  # the whole drawing's width: a row spans it

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True, slots=True)
class Edge:
    source: str  # the dependency
    target: str  # the step that waits for it
    path: str  # SVG path data


@dataclass(frozen=True, slots=True)
class Layout:
    lanes: tuple[LaneRow, ...]
    boxes: Mapping[str, Box]  # by step id, in plan order
    edges: tuple[Edge, ...]
    width: float
    height: float


def depths(steps: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Each step's dependency depth. Dependencies on steps not in the plan are ignored; a cycle
    (a plan never has one) is broken where it is met, so every step gets a depth."""
    after = {step["id"]: [d for d in step["after"] if d != step["id"]] for step in steps}
    after = {sid: [d for d in deps if d in after] for sid, deps in after.items()}
    waiting = {sid: len(set(deps)) for sid, deps in after.items()}
    dependents: dict[str, list[str]] = {sid: [] for sid in after}
    for sid, deps in after.items():
        for dep in set(deps):
            dependents[dep].append(sid)
    ready = deque(sid for sid, n in waiting.items() if n == 0)
    order: list[str] = []
    while ready:
        sid = ready.popleft()
        order.append(sid)
        for dependent in dependents[sid]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    placed = set(order)
    order += [sid for sid in after if sid not in placed]  # only in a cycle
    depth: dict[str, int] = {}
    for sid in order:
        depth[sid] = 1 + max((depth[d] for d in after[sid] if d in depth), default=-1)
    return {sid: depth[sid] for sid in after}


def layout(steps: Sequence[Mapping[str, Any]], lanes: Sequence[str | None],
           titles: Mapping[str, str] | None = None) -> Layout:
    """Boxes, lane rows and arrows for `steps` (each with `id`, `lane`, `after`) in the lanes
    `lanes`, top to bottom (a step whose lane is not listed gets a row after them)."""
    depth = depths(steps)
    rows = list(dict.fromkeys([*lanes, *(step["lane"] for step in steps)]))
    stacks: dict[tuple[str | None, int], int] = {}
    slot: dict[str, int] = {}
    for step in steps:
        key = (step["lane"], depth[step["id"]])
        slot[step["id"]] = stacks.get(key, 0)
        stacks[key] = slot[step["id"]] + 1
    tallest = {lane: 1 for lane in rows}
    for (lane, _), count in stacks.items():
        tallest[lane] = max(tallest[lane], count)
    columns = 1 + max(depth.values(), default=0)
    width = GUTTER + columns * (BOX_WIDTH + COLUMN_GAP)
    lane_rows: list[LaneRow] = []
    top = 0.0
    for lane in rows:
        height = 2 * LANE_PADDING + tallest[lane] * BOX_HEIGHT + (tallest[lane] - 1) * STACK_GAP
        title = (titles or {}).get(lane, lane) if lane is not None else "(no lane)"
        lane_rows.append(LaneRow(lane, str(title), top, height, width))
        top += height
    row_top = {row.lane: row.y for row in lane_rows}
    boxes = {step["id"]: _box(step, depth[step["id"]], slot[step["id"]], row_top[step["lane"]]) for step in steps}
    return Layout(tuple(lane_rows), boxes, tuple(_edges(steps, boxes)), width, top)


def _box(step: Mapping[str, Any], depth: int, slot: int, row_top: float) -> Box:
    x = GUTTER + COLUMN_GAP / 2 + depth * (BOX_WIDTH + COLUMN_GAP)
    y = row_top + LANE_PADDING + slot * (BOX_HEIGHT + STACK_GAP)
    return Box(step["id"], step["lane"], depth, slot, x, y)


def _edges(steps: Iterable[Mapping[str, Any]], boxes: Mapping[str, Box]) -> Iterable[Edge]:
    for step in steps:
        target = boxes[step["id"]]
        for dep in dict.fromkeys(step["after"]):
            source = boxes.get(dep)
            if source is not None and dep != step["id"]:
                yield Edge(dep, step["id"], arrow(source, target))


def arrow(source: Box, target: Box) -> str:
    """A curve from the middle of the source's right edge to the middle of the target's left edge."""
    x1, y1 = source.right, source.y + source.height / 2
    x2, y2 = target.x, target.y + target.height / 2
    bend = max(COLUMN_GAP / 2, min(COLUMN_GAP, abs(x2 - x1) / 2))
    return f"M{_n(x1)},{_n(y1)} C{_n(x1 + bend)},{_n(y1)} {_n(x2 - bend)},{_n(y2)} {_n(x2)},{_n(y2)}"


def fit(text: str, width: float) -> str:
    """`text` cut with an ellipsis to the characters that fit in `width` pixels of label font."""
    room = max(1, int(width // CHAR_WIDTH))
    return text if len(text) <= room else text[: room - 1] + "…"


def _n(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")
