"""What planning derives from a set of templates, whatever the order: made once per templates.

`dro diff` and `dro test` plan many orders against the same templates, and a small order would
otherwise spend most of its time on what its steps share with every other order's: the scenario
index, each template step's settings (from the rules) and configuration, its dependencies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dro_cli.planning.scenarios import ScenarioIndex
from dro_cli.planning.settings import Resolver

# Template keys every instance carries as they are; the rest of a step is its type's configuration.
_INSTANCE_KEYS = ("title", "type", "lane", "scope", "run_as", "duration", "jeopardy", "retry", "queue")
# What an amendment reads of the templates (point_of_no_return...) is no instance's configuration either.
_NOT_CONFIG = frozenset({*_INSTANCE_KEYS, "group", "description", "after", "when",
                         "point_of_no_return", "freeze_plan", "compensate", "on_amend"})

if TYPE_CHECKING:
    from dro_cli.planning.instance_reads import Reads

Dependency = tuple[str, "str | None"]  # the step it runs after, and `within` (None: the nearest level)


class Prepared:
    """The templates with what planning needs of them, each part made when first asked for."""

    def __init__(self, templates: Mapping[str, Any]) -> None:
        self.templates = templates
        self.steps: Mapping[str, Any] = templates["steps"]
        self.index = ScenarioIndex(templates["scenarios"])
        self._resolver = Resolver(templates["jeopardy_rules"], templates["fallout_rules"])
        self._bases: dict[str, dict[str, Any]] = {}
        self._dependencies: dict[str, list[Dependency]] = {}
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

    def dependencies(self, step_id: str) -> list[Dependency]:
        found = self._dependencies.get(step_id)
        if found is None:
            found = self._dependencies[step_id] = [(d["step"], d["within"]) for d in self.steps[step_id]["after"]]
        return found


_last: Prepared | None = None


def prepared(templates: Mapping[str, Any]) -> Prepared:
    """The Prepared of `templates`: the last one is kept for the next plan with the same templates object
    (templates are never changed once compiled or read)."""
    global _last
    last = _last
    if last is None or last.templates is not templates:
        last = _last = Prepared(templates)
    return last
