"""In-flight change checks: `compensate`, `on_amend`, `point_of_no_return` (docs/language.md 3.5)."""

from __future__ import annotations

from collections.abc import Generator, Iterator, Mapping

from dsl import ast
from dsl.catalog import Catalog, Decl
from dsl.diagnostics import Diagnostic, did_you_mean, error
from dsl.expressions import evaluate, walk
from dsl.graph import find_cycles
from dsl.references import COMPENSATION_KEYS, added_steps, compensation_uses, group_members
from dsl.text_check import expression_of


def check_compensation(catalog: Catalog) -> Iterator[Diagnostic]:
    settings = [s for s in catalog.steps.values() if s.valid and (
        "compensate" in s.data or "on_amend" in s.data or "point_of_no_return" in s.data)]
    if not settings:
        return  # the common case: a catalog without in-flight change settings
    has_any = [s for s in settings if any(k in s.data for k in COMPENSATION_KEYS)]
    ponr = [s for s in settings if s.data.get("point_of_no_return") is True]
    members = group_members(catalog)
    uses = compensation_uses(catalog)
    yield from _unknown_targets(catalog, has_any, members)
    in_cycle = yield from _cycles(catalog, has_any, members)
    for step in has_any:
        if step.id in uses and step.id not in in_cycle:
            yield _nested(step, uses[step.id])
    added = added_steps(catalog)
    for step in ponr:
        yield from _never_starts(catalog, step, added, uses)


def _unknown_targets(catalog: Catalog, steps: list[Decl], members: Mapping[str, list[str]]) -> Iterator[Diagnostic]:
    known = {**catalog.steps, **catalog.groups}
    for step in steps:
        for key in COMPENSATION_KEYS:
            name = step.data.get(key)
            if not isinstance(name, str):
                continue
            if name not in known:
                yield error("DRO322", f"unknown group or step '{name}' in {key}", step.span(key),
                            detail=f"Step '{step.id}' runs '{name}' {_WHEN[key]}, and the catalog declares no "
                                   "group or step of that name.",
                            hint=did_you_mean(name, known) or "name a group or a step the catalog declares")
            elif name in catalog.groups and not members.get(name):
                yield error("DRO322", f"group '{name}' in {key} has no steps", step.span(key),
                            detail=f"Step '{step.id}' runs group '{name}' {_WHEN[key]}, which would do nothing.",
                            hint=f"add steps to group '{name}', or remove `{key}`")


_ROLE = {"compensate": "the compensation", "on_amend": "the on_amend step"}
_WHEN = {"compensate": "when an amendment or a cancel removes it after it started",
         "on_amend": "when an amendment changes it after it started"}


def _cycles(catalog: Catalog, steps: list[Decl],
            members: Mapping[str, list[str]]) -> Generator[Diagnostic, None, set[str]]:
    """Compensation cycles; returns the steps in one (their nested compensation is this error, not DRO324)."""
    edges: dict[str, list[str]] = {}
    for step in steps:
        targets: list[str] = []
        for key in COMPENSATION_KEYS:
            name = step.data.get(key)
            if isinstance(name, str):
                targets += [t for t in members.get(name, [name]) if t in catalog.steps and t not in targets]
        edges[step.id] = targets
    in_cycle: set[str] = set()
    for cycle in find_cycles(edges):
        in_cycle.update(cycle)
        step = catalog.steps[cycle[0]]
        following = cycle[1] if len(cycle) > 1 else cycle[0]
        key = next(k for k in COMPENSATION_KEYS if isinstance(n := step.data.get(k), str)
                   and following in members.get(n, [n]))
        chain = " -> ".join([*cycle, cycle[0]])
        yield error("DRO323", f"compensation cycle: {chain}", step.span(key),
                    detail="Undoing each step of this chain runs the next one, which would be undone in turn "
                           "by the first again: the compensation would never end.",
                    hint=f"a compensation is not undone in turn: take `{key}` off step '{following}'"
                    if following != step.id else f"step '{step.id}' cannot undo itself: make `{key}` name "
                                                 "a group or step that does not hold it")
    return in_cycle


def _nested(step: Decl, used_by: list[tuple[str, str]]) -> Diagnostic:
    key = next(k for k in COMPENSATION_KEYS if k in step.data)
    user, how = used_by[0]
    return error("DRO324", f"compensation step '{step.id}' has its own {key}", step.key_span(key),
                 detail=f"Step '{step.id}' runs as {_ROLE[how]} of step '{user}', and a step run by an amendment is "
                        "never undone by another: dro does not compensate compensations.",
                 hint=f"remove `{key}` from '{step.id}'; if it can fail half-way, make it safe to retry, "
                      f"or add the undoing steps to what step '{user}' runs")


def _never_starts(catalog: Catalog, step: Decl, added: set[str],
                  uses: Mapping[str, list[tuple[str, str]]]) -> Iterator[Diagnostic]:
    if step.id not in added:
        why = (f"it runs only as {_ROLE[uses[step.id][0][1]]} of step '{uses[step.id][0][0]}', in an amendment"
               if step.id in uses else "no scenario adds it")
        yield error("DRO325", "point of no return on a step that never starts in a plan", step.key_span(
            "point_of_no_return"), detail=f"Step '{step.id}' is never started by a scenario's plan ({why}), so it "
                                          "could never stop an amendment.",
                    hint="put `point_of_no_return true` on the step of the plan that commits the change, "
                         "or add this step to a scenario")
        return
    if "when" in step.data:
        expr, problems = expression_of(step, ("when",))
        if expr is not None and not problems and _constant_false(expr):
            yield error("DRO325", "point of no return on a step that never starts in a plan",
                        step.key_span("point_of_no_return"),
                        detail=f"Step '{step.id}' has a `when` that is false whatever the order, so no plan holds "
                               "an instance of it.",
                        hint="fix the `when`, or put `point_of_no_return true` on a step that runs")


def _constant_false(expr: ast.Expr) -> bool:
    """A `when` that reads nothing of the order (no path, no exists()) and is false."""
    if any(isinstance(node, (ast.Path, ast.Call)) for node in walk(expr)):
        return False
    return not evaluate(expr, {})
