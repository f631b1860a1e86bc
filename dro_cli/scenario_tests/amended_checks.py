"""Run facts of amendments: what the last `amend` or `cancel` of a script reconciled (`expect: {amended:
...}`), the refusal of the step before (`expect: {refused: DRO532}`), and the state an instance an
amendment superseded ended in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dro_cli.scenario_tests.results import Mismatch
from dsl.document import Path as DocPath

if TYPE_CHECKING:
    from dro_cli.scenario_tests.simulation import Simulation

FATES = ("discarded", "amended", "canceled", "added")


def refused(sim: Simulation, expected: str | None, at: DocPath) -> list[Mismatch]:
    """The code of the refusal of the step before (`null`: it was not refused)."""
    refusal = sim.refused
    actual = refusal.code if refusal is not None else None
    if actual == expected:
        return []
    note = refusal.message if refusal is not None else "the step before was done, not refused"
    return [Mismatch("refusal of the step before", expected, actual, at, note)]


def amended(sim: Simulation, expected: Mapping[str, Any], at: DocPath) -> list[Mismatch]:
    """Exactly these instances of each fate given, these compensation instances, this revision."""
    done = sim.reconciliation
    if done is None:
        return [Mismatch("the last amendment", dict(expected), "no amendment or cancel was made", at)]
    found: list[Mismatch] = []
    if "revision" in expected and done.revision != expected["revision"]:
        found.append(Mismatch("revision of the last amendment", expected["revision"], done.revision,
                              (*at, "revision")))
    actual: dict[str, list[str]] = {fate: [e["step"] for e in done.entries if e["fate"] == fate] for fate in FATES}
    actual["compensations"] = [sid for e in done.entries for sid in e.get("compensation") or ()]
    actual["kept"] = list(done.kept)
    for key, ids in actual.items():
        if key in expected:
            why = {e["step"]: e["reason"] for e in done.entries if e["fate"] == key}
            subject = "compensation instances" if key == "compensations" else f"{key} instances"
            found += _exactly(f"{subject} of revision {done.revision}", ids, expected[key], (*at, key), why)
    return found


def _exactly(subject: str, ids: Sequence[str], refs: Sequence[str], at: DocPath,
             why: Mapping[str, str]) -> list[Mismatch]:
    """Each id named by a reference, each reference naming an id (an instance id, or a step id)."""
    missing = [ref for ref in refs if not any(_names(ref, sid) for sid in ids)]
    extra = [sid for sid in ids if not any(_names(ref, sid) for ref in refs)]
    if not (missing or extra):
        return []
    note = "; ".join(part for part in (
        missing and f"missing: {', '.join(missing)}",
        extra and "unexpected: " + ", ".join(f"{sid} ({why[sid]})" if sid in why else sid for sid in extra))
        if part)
    return [Mismatch(subject, sorted(refs), sorted(ids), at, note)]


def _names(ref: str, sid: str) -> bool:
    return ref == sid or ref == sid.split("[", 1)[0]


def superseded_state(sim: Simulation, sid: str) -> str | None:
    """The state an instance no longer in the live plan ended in (discarded, amended, canceled), if any."""
    ended = [entry for entry in sim.engine.history if entry.id == sid]
    return str(ended[-1].run.state) if ended else None
