"""The compensation instances of an amendment: what `compensate` and `on_amend` run, wired in reverse
dependency order of the steps they undo.

An instance of template step T undoing instance R in revision N has the id `T[rN:R]`, R's item and
bundle, and `undoes: R`; it reads `undone` (R as it ran) and `revision` at run time. Within one
compensation the template steps keep their `after` among themselves; the first of them waits for
the compensations of the steps that ran after R, so that what was done last is undone first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dro_cli.planning.prepared import prepared

if TYPE_CHECKING:
    from dro_cli.planning.amendment import Running


class Compensations:
    def __init__(self, running: Running, templates: Mapping[str, Any], revision: int, reason: str | None) -> None:
        self._running = running
        self._templates = templates
        self._revision = revision
        self._of: dict[str, list[dict[str, Any]]] = {}  # undone id -> its compensation's instances
        self._how: dict[str, str] = {}
        self.instances: list[dict[str, Any]] = []
        self.last_of: dict[str, list[str]] = {}  # undone id -> the instances nothing else of its compensation follows
        self.endpoints: dict[str, Any] = {}
        self.reason = reason  # the amendment's, for `revision.reason` in a `when`

    def add(self, undone: str, how: str, template_ids: list[str]) -> list[str]:
        """The instances undoing `undone` (by `compensate` or `on_amend`), in dependency order; their ids."""
        if not template_ids:
            return []
        base = prepared(self._templates).base
        step = self._running.steps[undone]
        context = self._context(undone)
        members = {t for t in template_ids if _holds(self._templates["steps"][t].get("when"), context)}
        made: list[dict[str, Any]] = []
        for template_id in template_ids:
            if template_id not in members:
                continue  # its `when` is false for this undone instance
            template = self._templates["steps"][template_id]
            within = [d["step"] for d in template["after"] if d["step"] in members]
            made.append({
                **base(template_id), "id": self._id(template_id, undone), "step": template_id,
                "item": step.get("item"), "bundle": step.get("bundle"),
                "after": sorted(self._id(d, undone) for d in within),
                "revision": self._revision, "undoes": undone, "compensates": how})
            endpoint = template.get("endpoint")
            if endpoint is not None:
                self.endpoints[endpoint] = self._templates["endpoints"][endpoint]
        followed = {dependency for instance in made for dependency in instance["after"]}
        self.last_of[undone] = [instance["id"] for instance in made if instance["id"] not in followed]
        self._of[undone] = made
        self._how[undone] = how
        return [instance["id"] for instance in made]

    def _context(self, undone: str) -> dict[str, Any]:
        """What a compensation's `when` reads: the undone instance's order, item and bundle, and
        `undone` and `revision` as its templates will see them."""
        step, run = self._running.steps[undone], self._running.runs[undone]
        context = self._running.plan["context"]
        return {
            "order": context["order"],
            "item": context["items"].get(step.get("item") or "") or context.get("removed_items", {}).get(
                step.get("item") or ""),
            "bundle": context["bundles"].get(step.get("bundle") or ""),
            "undone": {"id": undone, "step": step["step"], "state": str(run.state), "attempt": run.attempts,
                       "item": step.get("item"), "bundle": step.get("bundle"), "outputs": dict(run.outputs)},
            "revision": {"number": self._revision, "reason": self.reason},
        }

    def _id(self, template_id: str, undone: str) -> str:
        return f"{template_id}[r{self._revision}:{undone}]"

    def wire(self) -> None:
        """Each compensation's first instances after the compensations of the steps that depend on the
        step it undoes (the nearest compensated ones); an on_amend's after the step it follows."""
        dependents: dict[str, list[str]] = {}
        for sid, step in self._running.steps.items():
            for dependency in step["after"]:
                dependents.setdefault(dependency, []).append(sid)
        for undone, made in self._of.items():
            before = sorted({last for later in self._nearest(undone, dependents) for last in self.last_of[later]})
            if self._how[undone] == "on_amend":
                before = sorted({*before, undone})
            for instance in made:
                if not instance["after"]:
                    instance["after"] = before
            self.instances.extend(made)

    def _nearest(self, undone: str, dependents: Mapping[str, list[str]]) -> set[str]:
        """The compensated steps that depend on `undone`, through steps that are not compensated."""
        found: set[str] = set()
        seen = {undone}
        stack = list(dependents.get(undone, ()))
        while stack:
            sid = stack.pop()
            if sid in seen:
                continue
            seen.add(sid)
            if sid in self._of:
                found.add(sid)
            else:
                stack.extend(dependents.get(sid, ()))
        return found


def _holds(when: str | None, context: Mapping[str, Any]) -> bool:
    from dro_cli.planning.evaluation import compiled

    return when is None or bool(compiled(when)(context))
