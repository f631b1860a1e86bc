"""The template context of a step's attempt (DESIGN 3.5): what handlers render with and flows read."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from dro_cli.engine.machine import Engine

KEYS = ("order", "item", "bundle", "plan", "step", "outputs")
AMEND_KEYS = (*KEYS, "undone", "revision")  # what a step run by `compensate` or `on_amend` reads besides


class StepContexts:
    """Contexts for the attempts of one plan; the order and its items are gathered once."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        context = engine.plan["context"]
        self._items: Mapping[str, Any] = context["items"]
        self._bundles: Mapping[str, Any] = context["bundles"]
        # a compensation's item may be one the revision removed
        self._removed_items: Mapping[str, Any] = context.get("removed_items", {})
        self._removed_bundles: Mapping[str, Any] = context.get("removed_bundles", {})
        self._order = {**context["order"], "items": list(self._items.values())}

    def of(self, sid: str, attempt: int) -> StepContext:
        """`order` (with `items`, the fulfillment items), `item`, `bundle`, `plan`, `step` and the
        `outputs` of the step's dependencies."""
        step = self.engine.steps[sid]
        item, bundle = step["item"], step["bundle"]
        values = {
            "order": self._order,
            "item": (self._items.get(item) or self._removed_items.get(item)) if item else None,
            "bundle": (self._bundles.get(bundle) or self._removed_bundles.get(bundle)) if bundle else None,
            "plan": {"id": self.engine.order_id},
            "step": {"id": sid, "attempt": attempt},
        }
        if "undoes" in step:
            values["undone"], values["revision"] = undone_of(self.engine, step)
        return StepContext(self.engine, sid, values)


def undone_of(engine: Engine, step: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`undone` (the instance a compensation undoes, as it ran) and `revision` (the amendment that made it)."""
    sid, revision = step["undoes"], step["revision"]
    found = next((h for h in reversed(engine.history) if h.id == sid and h.ended_in == revision), None)
    instance, run = (found.step, found.run) if found is not None else (engine.steps[sid], engine.runs[sid])
    state = found.was if found is not None else run.state
    act = next((a for a in engine.amendments if a.get("revision") == revision), {})
    undone = {"id": sid, "step": instance["step"], "state": str(state), "attempt": run.attempts,
              "item": instance.get("item"), "bundle": instance.get("bundle"), "outputs": dict(run.outputs)}
    return undone, {"number": revision, "reason": act.get("reason")}


class StepContext(Mapping[str, Any]):
    """One attempt's context, its `outputs` gathered on first read: most no-op flows and commands render
    nothing. The dependencies are finished before the step starts, so their outputs no longer change
    and reading them later (on a handler's thread) gives what reading them at the start would."""

    __slots__ = ("_engine", "_sid", "_values")

    def __init__(self, engine: Engine, sid: str, values: dict[str, Any]) -> None:
        self._engine = engine
        self._sid = sid
        self._values = values

    def __getitem__(self, key: str) -> Any:
        values = self._values
        if key == "outputs" and key not in values:
            values[key] = self._engine.dependency_outputs(self._sid)  # two threads at once compute the same
        return values[key]

    def get(self, key: str, default: Any = None) -> Any:
        """As Mapping.get, without its detour through __getitem__ and KeyError (a flow's context reads three)."""
        values = self._values
        if key in values:
            return values[key]
        return self[key] if key in KEYS else default

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __contains__(self, key: object) -> bool:
        return key in self._keys()

    def _keys(self) -> tuple[str, ...]:
        return AMEND_KEYS if "undone" in self._values else KEYS
