"""Reference checks: every name points at a declaration; warnings for what nothing uses."""

from __future__ import annotations

from collections.abc import Iterator

from dsl.catalog import Catalog, Decl
from dsl.diagnostics import Diagnostic, did_you_mean, error, warning


def check_references(catalog: Catalog) -> Iterator[Diagnostic]:
    yield from _step_references(catalog)
    yield from _scenario_references(catalog)
    yield from _rule_references(catalog)
    yield from _unused(catalog)


def dependencies(step: Decl) -> list[tuple[int, str]]:
    """The (index, step id) of each `after` entry of a step."""
    refs: list[tuple[int, str]] = []
    after = step.data.get("after")
    for i, ref in enumerate(after if isinstance(after, list) else []):
        target = ref.get("step") if isinstance(ref, dict) else ref
        if isinstance(target, str):
            refs.append((i, target))
    return refs


def _unknown(code: str, noun: str, name: str, decl: Decl, known: dict[str, Decl],
             *keys: str | int) -> Diagnostic:
    return error(code, f"unknown {noun} '{name}'", decl.span(*keys),
                 detail=f"{_title(decl)} refers to {noun} '{name}', which the catalog does not declare.",
                 hint=did_you_mean(name, known) or f"declare `{noun} {name}`, or use one of the known ones")


def _title(decl: Decl) -> str:
    return f"{decl.kind.replace('_', ' ').capitalize()} '{decl.id}'"


def _step_references(catalog: Catalog) -> Iterator[Diagnostic]:
    for step in catalog.valid(catalog.steps):
        lane = step.data.get("lane")
        if isinstance(lane, str) and lane not in catalog.lanes:
            yield _unknown("DRO301", "lane", lane, step, catalog.lanes, "lane")
        endpoint = step.data.get("endpoint")
        if isinstance(endpoint, str) and endpoint not in catalog.endpoints:
            yield _unknown("DRO302", "endpoint", endpoint, step, catalog.endpoints, "endpoint")
        seen: set[str] = set()
        for i, target in dependencies(step):
            if target not in catalog.steps:
                yield error("DRO304", f"unknown step '{target}' in after", step.span("after", i),
                            detail=f"Step '{step.id}' runs after '{target}', which the catalog does not declare.",
                            hint=did_you_mean(target, catalog.steps) or "name a step declared in a group")
            elif target in seen:
                yield warning("DRO310", f"step '{target}' is listed twice in after", step.span("after", i),
                              hint="remove the second one")
            seen.add(target)


def _scenario_references(catalog: Catalog) -> Iterator[Diagnostic]:
    targets = {**catalog.steps, **catalog.groups}
    for scenario in catalog.valid(catalog.scenarios):
        for i, name in enumerate(scenario.data.get("add", [])):
            if name not in targets:
                yield error("DRO303", f"unknown group or step '{name}'", scenario.span("add", i),
                            detail=f"Scenario '{scenario.id}' adds '{name}', which is neither a group nor a step.",
                            hint=did_you_mean(name, targets) or "add a group or a step the catalog declares")


def _rule_references(catalog: Catalog) -> Iterator[Diagnostic]:
    for rule in [*catalog.valid(catalog.jeopardy_rules), *catalog.valid(catalog.fallout_rules)]:
        endpoint = rule.data.get("match", {}).get("endpoint")
        if isinstance(endpoint, str) and endpoint not in catalog.endpoints:
            yield _unknown("DRO302", "endpoint", endpoint, rule, catalog.endpoints, "match", "endpoint")


def added_steps(catalog: Catalog) -> set[str]:
    """The steps some scenario adds, directly or through their group."""
    added: set[str] = set()
    groups = group_members(catalog)
    for scenario in catalog.scenarios.values():
        for name in _adds(scenario):
            added.update(groups.get(name, [name] if name in catalog.steps else []))
    return added


def _adds(scenario: Decl) -> list[str]:
    add = scenario.data.get("add")
    return [a for a in add if isinstance(a, str)] if isinstance(add, list) else []


def _names(decls: list[Decl], key: str) -> set[str]:
    """The string values of `key` over declarations, valid or not (all count as uses)."""
    return {v for d in decls if isinstance(v := d.data.get(key), str)}


def group_members(catalog: Catalog) -> dict[str, list[str]]:
    """Each group's steps, in the order they are declared."""
    groups: dict[str, list[str]] = {g: [] for g in catalog.groups}
    for step in catalog.steps.values():
        if step.group is not None:
            groups.setdefault(step.group, []).append(step.id)
    return groups


# The attributes that name what runs when an amendment removes or changes a started step.
COMPENSATION_KEYS = ("compensate", "on_amend")


def compensation_uses(catalog: Catalog) -> dict[str, list[tuple[str, str]]]:
    """Each step that some `compensate`/`on_amend` runs -> the (step, attribute) that run it. An amendment
    adds those steps to a plan, a scenario need not."""
    uses: dict[str, list[tuple[str, str]]] = {}
    setting = [s for s in catalog.steps.values() if "compensate" in s.data or "on_amend" in s.data]
    if not setting:
        return uses  # the common case, kept to one pass: compiles check 10,000s of steps
    members = group_members(catalog)
    for step in setting:
        for key in COMPENSATION_KEYS:
            name = step.data.get(key)
            if isinstance(name, str):
                for target in members.get(name, [name] if name in catalog.steps else []):
                    uses.setdefault(target, []).append((step.id, key))
    return uses


def _unused(catalog: Catalog) -> Iterator[Diagnostic]:
    steps = list(catalog.steps.values())
    used_lanes = _names(steps, "lane")
    for lane in catalog.lanes.values():
        if lane.id not in used_lanes:
            yield warning("DRO311", f"lane '{lane.id}' is never used", lane.key_span(),
                          hint="give a step this lane, or remove it")
    used_endpoints = _names(steps, "endpoint")
    for endpoint in catalog.endpoints.values():
        if endpoint.id not in used_endpoints:
            yield warning("DRO312", f"endpoint '{endpoint.id}' is never used", endpoint.key_span(),
                          hint="call it from a callout step, or remove it")
    # What a `compensate` or `on_amend` runs is added by amendments: not "never added".
    added = added_steps(catalog) | compensation_uses(catalog).keys()
    named = {name for s in catalog.scenarios.values() for name in _adds(s)}
    named.update(v for s in steps if "compensate" in s.data or "on_amend" in s.data
                 for k in COMPENSATION_KEYS if isinstance(v := s.data.get(k), str))
    for group, members in group_members(catalog).items():
        if group in named:
            continue
        left_out = [m for m in members if m not in added]
        if len(left_out) == len(members) and group in catalog.groups:
            decl = catalog.groups[group]
            yield warning("DRO313", f"group '{group}' is never added", decl.key_span(),
                          detail="No scenario adds this group or any of its steps.",
                          hint=f"add it to a scenario (`add [{group}]`), or remove it")
            continue
        for step_id in left_out:
            yield warning("DRO314", f"step '{step_id}' is never added", catalog.steps[step_id].key_span(),
                          detail=f"Scenarios add steps of group '{group}' one by one, but not this one.",
                          hint=f"add `{step_id}` to a scenario, or add the whole group")
    groups = group_members(catalog)
    for scenario in catalog.valid(catalog.scenarios):
        names = _adds(scenario)
        if all(name in groups and not groups[name] for name in names):
            yield warning("DRO315", f"scenario '{scenario.id}' adds nothing", scenario.key_span("add"),
                          hint="add a group or a step, or remove the scenario")
