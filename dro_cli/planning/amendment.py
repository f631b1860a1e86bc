"""Reconciling a running plan with a revision of its order (docs/amending.md): what is kept, discarded,
added, amended, canceled or compensated, and what a point of no return blocks.

Pure: given the plan's live step instances and their states, the templates and the new revision's
plan, it decides; the runtime journals the decision and the engine folds it.

- not started, unchanged: kept; not started, changed or gone: `discarded` (the new instance added);
- started (or done), changed: `amended`: its `on_amend` steps run after it and it is not run again;
  without `on_amend`, its `compensate` steps run (if any), then the new instance;
- started, gone: `canceled`, and its `compensate` steps run;
- any of these on an item covered by a started `point_of_no_return` step: blocked, and nothing changes.
Compensations run in reverse dependency order of the steps they undo.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dro_cli.engine.states import StepState
from dro_cli.engine.step_run import StepRun
from dro_cli.planning.instance_reads import Context, Reads, Views, reads
from dro_cli.planning.prepared import prepared
from dsl.gc_pause import collector_paused

NOT_STARTED = frozenset({StepState.PENDING, StepState.READY})
_UNCOMPARED = frozenset({"after", "revision", "id"})  # compared on their own, or tags of the run, not the step


@dataclass(frozen=True)
class Blocked:
    """A change refused: the step past its point of no return, and the step the change would touch."""

    ponr_step: str
    started_at: float | None
    touched: str
    why: str


@dataclass
class Reconciliation:
    revision: int
    entries: list[dict[str, Any]] = field(default_factory=list)  # every change, in plan order
    kept: list[str] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    frozen: list[str] = field(default_factory=list)  # `freeze_plan` steps in progress: the amendment waits
    plan: dict[str, Any] = field(default_factory=dict)  # the revision's plan, to write as plan.rN.json
    restart: list[str] = field(default_factory=list)  # ids in the new plan whose run starts anew
    superseded: dict[str, str] = field(default_factory=dict)  # old id -> discarded | amended | canceled

    def counts(self) -> dict[str, int]:
        counted = {"kept": len(self.kept)}
        for entry in self.entries:
            counted[entry["fate"]] = counted.get(entry["fate"], 0) + 1
        return counted

    @property
    def changes(self) -> bool:
        return bool(self.entries)


@dataclass
class Running:
    """What reconciling reads of the running order: its live instances, how each has run, the plan's context."""

    plan: Mapping[str, Any]
    steps: Mapping[str, Mapping[str, Any]]
    runs: Mapping[str, StepRun]

    def __post_init__(self) -> None:
        self.states = {sid: run.state for sid, run in self.runs.items()}
        self.started_at = {sid: run.started_at for sid, run in self.runs.items()}


def reconcile(running: Running, new_plan: Mapping[str, Any], templates: Mapping[str, Any],
              revision: int, reason: str | None = None) -> Reconciliation:
    """The reconciliation of the running plan with `new_plan` (planned from the revised order with
    `templates`), as revision `revision`. Cancelling the whole order is reconciling with an empty plan."""
    with collector_paused():  # as the planner: many small objects, no cycles, all alive until the end
        return _reconcile(running, new_plan, templates, revision, reason)


def _reconcile(running: Running, new_plan: Mapping[str, Any], templates: Mapping[str, Any],
               revision: int, reason: str | None) -> Reconciliation:
    from dro_cli.planning.compensation import Compensations

    result = Reconciliation(revision)
    new_steps = {step["id"]: step for step in new_plan["steps"]}
    views = Views(running.plan, new_plan)
    old_view, new_view = views.old, views.new
    template_steps = templates["steps"]
    changed: dict[str, str] = {}  # old id -> what changed (for an id in both plans)
    undoing = {sid for sid, old in running.steps.items() if "undoes" in old}
    read = prepared(templates).reads  # kept with the templates: the configurations are the planner's
    # Planned with the very templates the running plan was: an instance's definition is its template step's
    # (planning/prepared.py, the same for every order), so only its dependencies and the values it reads differ.
    same_templates = running.plan.get("templates") == new_plan.get("templates") and not running.plan.get(
        "mixed_templates")
    for sid, old in running.steps.items():
        if "undoes" in old:
            continue  # a compensation of an earlier revision runs on, whatever this one says
        new = new_steps.get(sid)
        if new is not None:
            difference = _difference(old, new, views, undoing, read, same_templates and old["step"] == new["step"])
            if difference:
                changed[sid] = difference
    _cascade(running, changed, new_steps)

    compensations = Compensations(running, templates, revision, reason)
    rerun: set[str] = set()  # changed started steps whose new instance runs (after their compensation)
    for sid, old in running.steps.items():
        if "undoes" in old:
            result.kept.append(sid)
            continue
        state = running.states[sid]
        template = template_steps.get(old["step"], {})
        started = state not in NOT_STARTED
        if sid in new_steps and sid not in changed:
            result.kept.append(sid)
        elif not started:
            why = f"not started; {changed[sid]}" if sid in changed else f"not started; {_gone(old, new_view)}"
            _entry(result, sid, "discarded", state, why)
        elif sid in changed:
            if template.get("on_amend"):
                runs = compensations.add(sid, "on_amend", template["on_amend"])
                _entry(result, sid, "amended", state, f"{state}; {changed[sid]}: its on_amend steps run "
                       f"({', '.join(runs)}), and it is not run again", by=runs, superseded=False)
                continue  # its run stays: the on_amend steps follow it
            runs = compensations.add(sid, "compensate", template.get("compensate") or [])
            then = f"its compensation ({', '.join(runs)}) runs, then the new instance" if runs else \
                "the new instance runs"
            _entry(result, sid, "amended", state, f"{state}; {changed[sid]}: {then}", by=runs)
            rerun.add(sid)
        else:
            runs = compensations.add(sid, "compensate", template.get("compensate") or [])
            undo = f": its compensation runs ({', '.join(runs)})" if runs else "; it has no compensation"
            _entry(result, sid, "canceled", state, f"{state}; {_gone(old, new_view)}{undo}", by=runs)
    for sid in new_steps:
        if sid not in running.steps:
            _entry(result, sid, "added", None, "new in this revision")
        elif sid in changed and running.states[sid] in NOT_STARTED:
            _entry(result, sid, "added", None, "the new instance of a discarded one")
    result.blocked = _blocked(running, result, template_steps, old_view)
    result.frozen = [sid for sid, old in running.steps.items()
                     if template_steps.get(old["step"], {}).get("freeze_plan") is True
                     and running.states[sid] is StepState.IN_PROGRESS]
    compensations.wire()
    result.plan = _revision_plan(running, new_plan, result, compensations, rerun, changed)
    return result


def _entry(result: Reconciliation, sid: str, fate: str, state: StepState | None, why: str,
           by: list[str] | None = None, superseded: bool = True) -> None:
    entry: dict[str, Any] = {"step": sid, "fate": fate, "reason": why}
    if state is not None:
        entry["was"] = str(state)
    if by:
        entry["compensation"] = by
    result.entries.append(entry)
    if fate != "added" and superseded:
        result.superseded[sid] = fate  # its run ends here; the engine keeps it in the order's history


def _difference(old: Mapping[str, Any], new: Mapping[str, Any], views: Views, undoing: set[str], read: Reads,
                same_definition: bool) -> str:
    """What differs between two instances of one id, said for the operator; "" when nothing does. The
    compensations (`undoing`) an earlier revision made an instance wait for are not among the dependencies
    its order plans: without them, the same revision given twice would amend what it amended again."""
    if not same_definition:
        compared = _compared(tuple(new))
        if old.keys() != new.keys() or list(map(old.__getitem__, compared)) != list(map(new.__getitem__, compared)):
            differing = [key for key in sorted((old.keys() | new.keys()) - _UNCOMPARED)
                         if old.get(key) != new.get(key)]
            if differing:
                return f"its definition changed ({', '.join(differing)})"
    if old["after"] != new["after"] and {d for d in old["after"] if d not in undoing} != set(new["after"]):
        return "its dependencies changed"
    paths = read(new)  # the same definition: what the old instance read, the new one reads
    return views.change(old, new, paths)


@functools.lru_cache(maxsize=64)
def _compared(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The keys of an instance compared as its definition (the instances of a plan have few sets of keys)."""
    return tuple(key for key in keys if key not in _UNCOMPARED)


def _cascade(running: Running, changed: dict[str, str], new_steps: Mapping[str, Any]) -> None:
    """A started step that read the outputs of a step run again reads new outputs: it is changed too."""
    dependents: dict[str, list[str]] = {}
    for sid, step in running.steps.items():
        for dependency in step["after"]:
            dependents.setdefault(dependency, []).append(sid)
    queue = [sid for sid in changed if running.states[sid] not in NOT_STARTED]
    while queue:
        sid = queue.pop()
        template_step = running.steps[sid]["step"]
        for dependent in dependents.get(sid, ()):
            if dependent in changed or dependent not in new_steps or running.states[dependent] in NOT_STARTED:
                continue
            if ("outputs", template_step) in reads(running.steps[dependent]) or any(
                    path[:1] == ("outputs",) and len(path) == 1 for path in reads(running.steps[dependent])):
                changed[dependent] = f"it read the outputs of {sid}, which runs again"
                queue.append(dependent)


def _gone(old: Mapping[str, Any], new_view: Context) -> str:
    item = old.get("item")
    if item and item not in new_view.items:
        return f"item {item} is no longer in the order"
    bundle = old.get("bundle")
    if bundle and bundle not in new_view.bundles:
        return f"bundle {bundle} is no longer in the order"
    return "the revision no longer plans it"


def _blocked(running: Running, result: Reconciliation, template_steps: Mapping[str, Any],
             old_view: Context) -> list[Blocked]:
    """The changes that touch an item covered by a `point_of_no_return` step that has started."""
    locks = [(sid, step) for sid, step in running.steps.items()
             if template_steps.get(step["step"], {}).get("point_of_no_return") is True
             and running.states[sid] not in NOT_STARTED]
    if not locks:
        return []
    found = []
    for entry in result.entries:
        if entry["fate"] == "added":
            continue
        touched = running.steps[entry["step"]]
        for sid, lock in locks:
            if _covers(lock, touched, old_view):
                found.append(Blocked(sid, running.started_at.get(sid), entry["step"], entry["reason"]))
                break
    return found


def _covers(lock: Mapping[str, Any], touched: Mapping[str, Any], view: Context) -> bool:
    scope = lock["scope"]
    if scope == "plan":
        return True
    if scope == "bundle":
        return bool(touched.get("bundle")) and touched["bundle"] == lock["bundle"]
    return bool(touched.get("item")) and touched["item"] == lock["item"]


def _revision_plan(running: Running, new_plan: Mapping[str, Any], result: Reconciliation, compensations: Any,
                   rerun: set[str], changed: Mapping[str, str]) -> dict[str, Any]:
    """The plan of the revision: the new plan's instances (kept ones as they ran), the compensations of
    earlier revisions still live, and this revision's compensations, each new instance after the
    compensation of the step it replaces."""
    revision = result.revision
    waits = compensations.last_of  # old id -> the last steps of its compensation
    steps: list[Mapping[str, Any]] = []
    on_amend = {e["step"] for e in result.entries if e["fate"] == "amended" and e["step"] not in result.superseded}
    kept = set(result.kept) | on_amend
    for step in new_plan["steps"]:
        sid = step["id"]
        made: Mapping[str, Any]
        if sid in kept and sid not in changed:
            made = running.steps[sid]  # as it ran, not copied: nothing below changes it in place
        elif sid in on_amend:
            made = {**step, "revision": running.steps[sid].get("revision", 1)}  # keeps its run and its keys
        else:
            fresh = {**step, "revision": revision}
            if sid in running.steps:
                result.restart.append(sid)
            if sid in rerun and waits.get(sid):
                fresh["after"] = sorted({*fresh["after"], *waits[sid]})
            made = fresh
        extra = on_amend and [last for dependency in made["after"] if dependency in on_amend
                              for last in waits[dependency]]
        if extra and running.states.get(sid, StepState.PENDING) in NOT_STARTED:
            made = {**made, "after": sorted({*made["after"], *extra})}  # after an amended step: after its on_amend
        steps.append(made)
    earlier = [step for step in running.steps.values() if "undoes" in step]
    if earlier:  # earlier compensations run on; what they waited for may be gone now
        live = {step["id"] for step in steps} | {s["id"] for s in compensations.instances} | {
            step["id"] for step in earlier}
        steps.extend({**step, "after": [d for d in step["after"] if d in live]} for step in earlier)
    steps.extend(compensations.instances)
    steps = _in_dependency_order(steps)
    context = dict(new_plan["context"])
    old_context = running.plan["context"]
    removed_items = {**old_context.get("removed_items", {}),
                     **{k: v for k, v in old_context["items"].items() if k not in context["items"]}}
    removed_bundles = {**old_context.get("removed_bundles", {}),
                       **{k: v for k, v in old_context["bundles"].items() if k not in context["bundles"]}}
    if removed_items:
        context["removed_items"] = removed_items
    if removed_bundles:
        context["removed_bundles"] = removed_bundles
    mixed = running.plan.get("mixed_templates") or running.plan.get("templates") != new_plan.get("templates")
    return {**new_plan, "revision": revision, "context": context, "steps": steps,
            **({"mixed_templates": True} if mixed else {}),
            "lanes": {**running.plan.get("lanes", {}), **new_plan.get("lanes", {})},
            "endpoints": {**running.plan.get("endpoints", {}), **new_plan.get("endpoints", {}),
                          **compensations.endpoints}}


def _in_dependency_order(steps: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The steps with each after what it depends on (a plan's order, which readers rely on), otherwise in
    the order given: a new instance that waits for a compensation moves after it."""
    import heapq

    seen: set[str] = set()
    for step in steps:  # most revisions are in order already: one look at each dependency says so
        if not seen.issuperset(step["after"]):
            break
        seen.add(step["id"])
    else:
        return steps
    index = {step["id"]: i for i, step in enumerate(steps)}
    waiting = [len(step["after"]) for step in steps]
    dependents: list[list[int]] = [[] for _ in steps]
    for i, step in enumerate(steps):
        for dependency in step["after"]:
            dependents[index[dependency]].append(i)
    ready = [i for i, n in enumerate(waiting) if n == 0]
    heapq.heapify(ready)
    ordered = []
    while ready:
        i = heapq.heappop(ready)
        ordered.append(steps[i])
        for dependent in dependents[i]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, dependent)
    return ordered
