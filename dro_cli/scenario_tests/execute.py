"""Run scenario test files: plan each case's order, check its plan facts, then play its script."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dro_cli.errors import DroError
from dro_cli.scenario_tests.facts import check_plan, seconds
from dro_cli.scenario_tests.results import CaseResult, Failure, FileResult, ScriptError, Verdict
from dro_cli.scenario_tests.run_checks import check_run
from dro_cli.scenario_tests.simulation import Simulation
from dro_cli.scenario_tests.spec import Action, Case, TestFile, inline_order_document
from dsl.diagnostics import Diagnostic, error, has_errors
from dsl.document import Path as DocPath
from dsl.sources import Sources, display_path


@dataclass
class Catalogs:
    """Each catalog compiled once, however many test files use it."""

    compiled: dict[Path, tuple[dict[str, Any] | None, list[Diagnostic]]] = field(default_factory=dict)
    sources: Sources = field(default_factory=Sources)

    def templates(self, catalog: Path) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
        if catalog not in self.compiled:
            from dsl import compile_catalog

            result = compile_catalog([catalog])
            self.sources.texts.update(result.sources.texts)
            self.compiled[catalog] = (result.templates, [d for d in result.diagnostics if d.is_error])
        return self.compiled[catalog]


def run_file(loaded: TestFile, catalogs: Catalogs) -> FileResult:
    began = time.perf_counter()
    result = FileResult(loaded.shown, diagnostics=list(loaded.diagnostics))
    if not loaded.usable or loaded.catalog is None:
        return result
    templates, problems = catalogs.templates(loaded.catalog)
    for case in loaded.cases:
        outcome = CaseResult(loaded.shown, case.name, loaded.span((*case.at, "name")))
        started = time.perf_counter()
        if templates is None:
            catalog = display_path(loaded.catalog)
            _fail(outcome, Verdict.ERROR, Failure(f"catalog {catalog} does not compile", loaded.span(("catalog",)),
                                                  diagnostics=problems))
        else:
            _run_case(loaded, case, templates, outcome)
        outcome.seconds = time.perf_counter() - started
        result.cases.append(outcome)
    result.seconds = time.perf_counter() - began
    return result


def _fail(outcome: CaseResult, verdict: Verdict, failure: Failure) -> None:
    outcome.verdict, outcome.failure = verdict, failure


def _run_case(loaded: TestFile, case: Case, templates: Mapping[str, Any], outcome: CaseResult) -> None:
    from dro_cli.planning.api import plan_order

    order, problems = _order(loaded, case)
    if order is None:
        _fail(outcome, Verdict.ERROR, Failure("the order cannot be used", loaded.span((*case.at, "order")),
                                              diagnostics=problems))
        return
    planned = plan_order(order, templates)
    if planned.plan is None:
        errors = [d for d in planned.diagnostics if d.is_error]
        _fail(outcome, Verdict.ERROR, Failure("the order cannot be planned", loaded.span((*case.at, "order")),
                                              diagnostics=errors))
        return
    if case.expect is not None:
        mismatches = check_plan(planned.plan, case.expect, (*case.at, "expect"))
        if mismatches:
            _fail(outcome, Verdict.FAILED, Failure("plan facts", loaded.span(mismatches[0].at), mismatches))
            return
    if case.run or case.answers:
        _play(loaded, case, planned.plan, templates, order, outcome)


def _order(loaded: TestFile, case: Case) -> tuple[Any, list[Diagnostic]]:
    """The case's order, loaded and checked; or None and why not."""
    from dro_cli.planning.orders import order_from_document

    if isinstance(case.order, str):
        return order_file(loaded, case.order, (*case.at, "order"))
    result = order_from_document(inline_order_document(loaded, case))
    if result.order is None or has_errors(result.diagnostics):
        return None, [d for d in result.diagnostics if d.is_error]
    return result, []


def order_file(loaded: TestFile, name: str, at: DocPath) -> tuple[Any, list[Diagnostic]]:
    """An order file named in the test file (a case's order, a revision to amend with), loaded and checked."""
    from dro_cli.planning.orders import load_order

    path = (loaded.path.parent / name).resolve()
    roots = [loaded.path.parent.resolve()] + ([loaded.catalog] if loaded.catalog else [])
    if not any(path.is_relative_to(root) for root in roots):
        return None, [error("DRO601", f"order file '{name}' is outside the test's directory and catalog",
                            loaded.span(at),
                            hint="keep order files beside the test file or in its catalog (orders/ is usual)")]
    result = load_order(path)
    if result.order is None or has_errors(result.diagnostics):
        return None, [d for d in result.diagnostics if d.is_error]
    return result, []


def _play(loaded: TestFile, case: Case, plan: Mapping[str, Any], templates: Mapping[str, Any], order: Any,
          outcome: CaseResult) -> None:
    from dro_cli.engine.instants import parse_instant

    try:
        start = parse_instant(case.start, source="start")
    except DroError as exc:
        _fail(outcome, Verdict.ERROR, Failure(exc.message, loaded.span((*case.at, "start")), hint=exc.hint))
        return
    unknown = [ref for ref in case.answers if not _names_a_step(plan, templates, ref)]
    if unknown:
        _fail(outcome, Verdict.FAILED, Failure(
            f"answers name a step the plan does not have: {', '.join(unknown)}",
            loaded.span((*case.at, "answers", unknown[0])), hint="name a step instance or a step id of the plan"))
        return
    try:  # the steps that start at once get their scripted answers here already
        sim = Simulation(plan, case.answers, start, templates, order)
    except ScriptError as exc:
        _fail(outcome, Verdict.FAILED, Failure("the start of the run", loaded.span((*case.at, "answers")),
                                               message=exc.message, hint=exc.hint))
        return
    for number, action in enumerate(case.run, 1):
        title = f"run step {number}: {action.kind}"
        if action.kind != "expect":
            sim.refused = None
        try:
            mismatches = _perform(loaded, sim, action)
        except ScriptError as exc:
            if exc.code and _expects_refusal(case, number):
                sim.refused = exc  # the next step checks it; nothing changed, as dro writes nothing then
                continue
            _fail(outcome, Verdict.FAILED, Failure(title, loaded.span(action.at), message=exc.message, hint=exc.hint,
                                                   diagnostics=exc.diagnostics))
            break
        if mismatches:
            _fail(outcome, Verdict.FAILED, Failure(title, loaded.span(mismatches[0].at), mismatches))
            break
    outcome.simulated = sim.now - start


def _expects_refusal(case: Case, number: int) -> bool:
    """Whether the step after step `number` (counted from 1) is an `expect` with `refused`."""
    following = case.run[number] if number < len(case.run) else None
    return following is not None and following.kind == "expect" and isinstance(following.value, Mapping) \
        and "refused" in following.value


def _perform(loaded: TestFile, sim: Simulation, action: Action) -> list[Any]:
    """Do one step of the script; an `expect` returns its mismatches."""
    kind, value = action.kind, action.value
    if kind == "expect":
        return check_run(sim, value, (*action.at, "expect"))
    if kind == "advance":
        sim.advance_to(sim.now + seconds(value))
    elif kind == "until":
        from dro_cli.engine.instants import parse_instant

        try:
            target = parse_instant(value, source="until")
        except DroError as exc:
            raise ScriptError(exc.message, exc.hint) from None
        sim.advance_to(target)
    elif kind == "answer":
        sim.answer(value, action.options)
    elif kind == "amend":
        revised, problems = order_file(loaded, value, (*action.at, "amend"))
        if revised is None:
            raise ScriptError(f"the revised order {value} cannot be used", "the diagnostics below say why",
                              diagnostics=problems)
        sim.amend(revised, value, action.options)
    else:
        sim.act(kind, value, action.options)
    return []


def _names_a_step(plan: Mapping[str, Any], templates: Mapping[str, Any], ref: str) -> bool:
    """A step of the plan, or a step an amendment may add: one that compensates (`compensate`, `on_amend`)."""
    if any(ref in (step["id"], step["step"]) for step in plan["steps"]):
        return True
    undoing = {sid for step in templates["steps"].values()
               for sid in (*(step.get("compensate") or ()), *(step.get("on_amend") or ()))}
    return ref.split("[", 1)[0] in undoing
