"""Run facts: what a simulated run must show at a moment: states, SLA, fallout, outputs, requests."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from dro_cli.engine.sla import sla_of
from dro_cli.engine.states import StepState
from dro_cli.engine.waiting import describe, waiting_on
from dro_cli.scenario_tests.amended_checks import amended, refused, superseded_state
from dro_cli.scenario_tests.results import Mismatch, instances, unknown
from dro_cli.scenario_tests.simulation import Simulation
from dsl.document import Path as DocPath


def check_run(sim: Simulation, expect: Mapping[str, Any], at: DocPath) -> list[Mismatch]:
    engine = sim.engine
    found: list[Mismatch] = []
    if "plan" in expect and str(engine.state) != expect["plan"]:
        found.append(Mismatch("state of the plan", expect["plan"], str(engine.state), (*at, "plan"),
                              _waiting(sim)))
    for key, read in _PER_STEP.items():
        for ref, expected in (expect.get(key) or {}).items():
            found += _per_step(sim, key, ref, expected, read, (*at, key, ref))
    if "fallout" in expect:
        found += _fallout(sim, expect["fallout"], (*at, "fallout"))
    if "waiting_on" in expect:
        kinds = sorted({entry["kind"] for entry in waiting_on(engine)})
        if kinds != sorted(set(expect["waiting_on"])):
            found.append(Mismatch("what the plan waits on", sorted(set(expect["waiting_on"])), kinds,
                                  (*at, "waiting_on"), _waiting(sim)))
    if "refused" in expect:
        found += refused(sim, expect["refused"], (*at, "refused"))
    if "amended" in expect:
        found += amended(sim, expect["amended"], (*at, "amended"))
    return found


Reader = Callable[[Simulation, str, Any], Iterator[tuple[Any, Any]]]  # (expected as shown, actual) if they differ


def _state(sim: Simulation, sid: str, expected: Any) -> Iterator[tuple[Any, Any]]:
    run = sim.engine.runs[sid]
    if str(run.state) != expected:
        yield expected, str(run.state)


def _sla(sim: Simulation, sid: str, expected: Any) -> Iterator[tuple[Any, Any]]:
    status, _due = sla_of(sim.engine.steps[sid], sim.engine.runs[sid], sim.now)
    if status != expected:
        yield expected, status


def _error(sim: Simulation, sid: str, expected: Any) -> Iterator[tuple[Any, Any]]:
    code = (sim.engine.runs[sid].error or {}).get("code")
    if code != expected:
        yield expected, code


def _attempts(sim: Simulation, sid: str, expected: Any) -> Iterator[tuple[Any, Any]]:
    if sim.engine.runs[sid].attempts != expected:
        yield expected, sim.engine.runs[sid].attempts


def _outputs(sim: Simulation, sid: str, expected: Any) -> Iterator[tuple[Any, Any]]:
    actual = sim.engine.runs[sid].outputs
    if any(key not in actual or actual[key] != value for key, value in expected.items()):
        yield expected, actual


def _request(sim: Simulation, sid: str, expected: Any) -> Iterator[tuple[Any, Any]]:
    actual = sim.requests.get(sid)
    if actual is None:
        yield expected, "no request sent"
        return
    shown = {key: actual[key] for key in expected}
    if not all(_holds(expected[key], actual[key]) for key in expected):
        yield expected, shown


def _holds(expected: Any, actual: Any) -> bool:
    """Whether `actual` has what `expected` says: maps by their keys (others may be there), the rest equal."""
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return all(key in actual and _holds(value, actual[key]) for key, value in expected.items())
    return bool(expected == actual)


_PER_STEP: dict[str, Reader] = {
    "states": _state, "sla": _sla, "errors": _error, "attempts": _attempts, "outputs": _outputs,
    "requests": _request,
}
_SUBJECTS = {"states": "state", "sla": "SLA", "errors": "error", "attempts": "attempts", "outputs": "outputs",
             "requests": "request"}


def _per_step(sim: Simulation, key: str, ref: str, expected: Any, read: Reader, at: DocPath) -> list[Mismatch]:
    steps = sim.engine.steps
    named = instances(steps, ref)
    if not named and key == "states":
        ended = superseded_state(sim, ref)
        if ended is not None:  # an instance an amendment took out of the live plan: the state it ended in
            return [] if ended == expected else [Mismatch(f"state of {ref}", expected, ended, at,
                                                          "an amendment superseded it")]
    if not named:
        return [unknown(steps, ref, at, _SUBJECTS[key])]
    return [Mismatch(f"{_SUBJECTS[key]} of {sid}", wanted, actual, at, _about(sim, sid))
            for sid in named for wanted, actual in read(sim, sid, expected)]


def _fallout(sim: Simulation, expected: Mapping[str, str], at: DocPath) -> list[Mismatch]:
    """Exactly these steps in fallout, each in its queue."""
    engine = sim.engine
    actual = {sid: engine.runs[sid].queue for sid in engine.with_state(StepState.FATALLY_FAILED)}
    found = []
    matched: set[str] = set()
    for ref, queue in expected.items():
        named = [sid for sid in instances(engine.steps, ref) if sid in actual]
        matched.update(named)
        wrong = {sid: actual[sid] for sid in named if actual[sid] != queue}
        if not named or wrong:
            found.append(Mismatch(f"fallout queue of {ref}", queue, wrong or "not in fallout", (*at, ref),
                                  None if named else _about_ref(sim, ref)))
    extra = {sid: queue for sid, queue in actual.items() if sid not in matched}
    if extra:
        found.append(Mismatch("steps in fallout", dict(expected), actual, at,
                              "; ".join(f"{sid}: {_about(sim, sid)}" for sid in extra)))
    return found


def _about(sim: Simulation, sid: str) -> str | None:
    """What happened to a step, when that explains a mismatch: its error, its queue."""
    run = sim.engine.runs[sid]
    if run.error and run.state in (StepState.FAILED, StepState.FATALLY_FAILED):
        where = f"in fallout queue {run.queue}" if run.state is StepState.FATALLY_FAILED else "a retry is due"
        return f"{run.error['code']}: {run.error['message']} ({where})"
    if run.state is StepState.IN_PROGRESS and sim.engine.steps[sid]["type"] in ("callout", "auto"):
        return "it is running: script an answer for it (`answers:` or an `answer:` step)"
    return None


def _about_ref(sim: Simulation, ref: str) -> str | None:
    states = {sid: str(sim.engine.runs[sid].state) for sid in instances(sim.engine.steps, ref)}
    return ", ".join(f"{sid} is {state}" for sid, state in states.items()) or None


def _waiting(sim: Simulation) -> str | None:
    entries = waiting_on(sim.engine)
    return "the plan waits on " + "; ".join(describe(e) for e in entries) if entries else None
