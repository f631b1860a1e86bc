"""What planning derives from a set of templates, whatever the order: made once per templates.

`dro diff` and `dro test` plan many orders against the same templates, and a small order would
otherwise spend most of its time on what its steps share with every other order's: the scenario
index, each template step's settings (from the rules) and configuration, its dependencies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dro_cli.planning.compact import StepDict
from dro_cli.planning.evaluation import compiled
from dro_cli.planning.scenarios import ScenarioIndex
from dro_cli.planning.settings import Resolver
from dsl.expressions import Compiled

# Template keys every instance carries as they are; the rest of a step is its type's configuration.
_INSTANCE_KEYS = ("title", "type", "lane", "scope", "run_as", "duration", "jeopardy", "retry", "queue")
# What an amendment reads of the templates (point_of_no_return...) is no instance's configuration either.
_NOT_CONFIG = frozenset({*_INSTANCE_KEYS, "group", "description", "after", "when",
                         "point_of_no_return", "freeze_plan", "compensate", "on_amend"})

if TYPE_CHECKING:
    from dro_cli.planning.instance_reads import Reads

Dependency = tuple[str, "str | None"]  # the step it runs after, and `within` (None: the nearest level)
# Where the wiring looks for a dependency's instances, from `within` and the scope of the step it names (an
# instance has its step's scope: a bundle's instances are never a line item's, plan-wide ones never a bundle's).
ITEM, BUNDLE, PLAN = "item", "bundle", "plan"
NEAREST_ITEM, NEAREST_BUNDLE = "nearest item", "nearest bundle"  # that level, else the wider ones
# A step of a scenario as planning walks it: its id, its compiled `when` (None: none), its scope, and a
# step instance of it (a StepDict's __dict__) whose id, item and bundle each instance sets on a copy.
ScenarioStep = tuple[str, "Compiled | None", str, dict[str, Any]]


class Prepared:
    """The templates with what planning needs of them, each part made when first asked for."""

    def __init__(self, templates: Mapping[str, Any]) -> None:
        self.templates = templates
        self.steps: Mapping[str, Any] = templates["steps"]
        self.index = ScenarioIndex(templates["scenarios"])
        self._resolver = Resolver(templates["jeopardy_rules"], templates["fallout_rules"])
        self._bases: dict[str, dict[str, Any]] = {}
        self._dependencies: dict[str, list[Dependency]] = {}
        self._scenario_steps: dict[str, list[ScenarioStep]] = {}
        self._wiring: dict[str, tuple[list[tuple[str, str]], bool]] = {}
        self._reads: Reads | None = None

    @property
    def reads(self) -> Reads:
        """What the instances of these templates read, kept per configuration for the next amendment too."""
        if self._reads is None:
            from dro_cli.planning.instance_reads import Reads

            self._reads = Reads()
        return self._reads

    def base(self, step_id: str) -> dict[str, Any]:
        """What every instance of the step carries: its title, type..., settings and configuration. Shared by
        the instances of every plan (never changed)."""
        base = self._bases.get(step_id)
        if base is None:
            step = self.steps[step_id]
            base = self._bases[step_id] = {
                **{key: step[key] for key in _INSTANCE_KEYS}, **self._resolver.resolve(step),
                "config": {key: value for key, value in step.items() if key not in _NOT_CONFIG}}
        return base

    def scenario_steps(self, scenario_id: str) -> list[ScenarioStep]:
        """The steps of a scenario, each with what an instance of it needs (made once: a large order walks
        them tens of thousands of times)."""
        found = self._scenario_steps.get(scenario_id)
        if found is None:
            found = self._scenario_steps[scenario_id] = [self._scenario_step(step_id) for step_id in
                                                         self.templates["scenarios"][scenario_id]["steps"]]
        return found

    def _scenario_step(self, step_id: str) -> ScenarioStep:
        step = self.steps[step_id]
        when = step["when"]
        # The prototype's `after` is the planner's placeholder until wiring; a copy of a dict that shares
        # its key table (compact.py) shares it too, so instances stay as small as StepDicts.
        prototype = StepDict(step_id, step_id, self.base(step_id), None, None, _UNWIRED).__dict__
        return step_id, None if when is None else compiled(when), step["scope"], prototype

    def wiring(self, step_id: str) -> tuple[list[tuple[str, str]], bool]:
        """The step's dependencies, each with where its instances are looked for (_mode), and whether no step
        is named twice (DRO310)."""
        found = self._wiring.get(step_id)
        if found is None:
            wanted = [(target, _mode(within, self.steps.get(target, {}).get("scope")))
                      for target, within in self.dependencies(step_id)]
            found = self._wiring[step_id] = ([(target, mode) for target, mode in wanted if mode is not None],
                                             len({target for target, _ in wanted}) == len(wanted))
        return found

    def dependencies(self, step_id: str) -> list[Dependency]:
        found = self._dependencies.get(step_id)
        if found is None:
            found = self._dependencies[step_id] = [(d["step"], d["within"]) for d in self.steps[step_id]["after"]]
        return found


def _mode(within: str | None, scope: str | None) -> str | None:
    """Where a dependency's instances are looked for (None: nowhere, as `within: line_item` on a bundle's step)."""
    if within == "plan" or (within is None and scope == "plan"):
        return PLAN
    if within is None:
        return NEAREST_BUNDLE if scope == "bundle" else NEAREST_ITEM  # an unknown scope: every level, in turn
    if within == "bundle":
        return None if scope == "plan" else BUNDLE
    if within == "line_item":
        return ITEM if scope in ("line_item", None) else None
    return NEAREST_ITEM


_UNWIRED: list[str] = []  # each instance's `after` until it is wired (shared, never changed)

_last: Prepared | None = None


def prepared(templates: Mapping[str, Any]) -> Prepared:
    """The Prepared of `templates`: the last one is kept for the next plan with the same templates object
    (templates are never changed once compiled or read)."""
    global _last
    last = _last
    if last is None or last.templates is not templates:
        last = _last = Prepared(templates)
    return last
