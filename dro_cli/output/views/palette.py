"""The colour of each step state, shared by the views that draw plans (html, mermaid, dot)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dro_cli.engine.states import StepState

# Every step state of DESIGN 5, `scheduled` included: dro never puts a step in it (StepState has no
# member for it), but a legend shows it, so that a page reads the same as DRO's documentation.
# Fill colours: light enough for dark text, one hue family per kind of state (grey waiting,
# blue running, amber held or retrying, green done, red fallout), each distinct.
STATE_COLOURS: Mapping[str, str] = MappingProxyType({
    StepState.PENDING: "#e5e7eb",
    "scheduled": "#e0e7ff",
    StepState.READY: "#bae6fd",
    StepState.IN_PROGRESS: "#60a5fa",
    StepState.ON_HOLD: "#fde68a",
    StepState.COMPLETED: "#86efac",
    StepState.FAILED: "#fdba74",
    StepState.FATALLY_FAILED: "#f87171",
    StepState.SKIPPED: "#e9d5ff",
    StepState.CANCELED: "#d6d3d1",
    StepState.AMENDED: "#fef08a",
    StepState.DISCARDED: "#f5f5f4",
})

# The outline of each state's boxes: a darker shade of its fill.
STATE_STROKES: Mapping[str, str] = MappingProxyType({
    StepState.PENDING: "#9ca3af",
    "scheduled": "#818cf8",
    StepState.READY: "#0284c7",
    StepState.IN_PROGRESS: "#1d4ed8",
    StepState.ON_HOLD: "#b45309",
    StepState.COMPLETED: "#15803d",
    StepState.FAILED: "#c2410c",
    StepState.FATALLY_FAILED: "#991b1b",
    StepState.SKIPPED: "#7e22ce",
    StepState.CANCELED: "#78716c",
    StepState.AMENDED: "#a16207",
    StepState.DISCARDED: "#a8a29e",
})


STEP_STATES: tuple[str, ...] = tuple(STATE_COLOURS)


def colour_of(state: str) -> str:
    """A state's fill colour; an unknown state gets pending's."""
    return STATE_COLOURS.get(state, STATE_COLOURS[StepState.PENDING])


def stroke_of(state: str) -> str:
    return STATE_STROKES.get(state, STATE_STROKES[StepState.PENDING])
