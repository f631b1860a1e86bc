"""Plan facts: which step instances a plan has, and each one's dependencies, lane, SLA and retry."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from dro_cli.scenario_tests.results import Mismatch, instances, unknown
from dsl.document import Path as DocPath
from dsl.durations import format_duration, parse_duration

# Facts compared as they are in the plan's step.
_PLAIN = ("lane", "type", "scope", "title", "queue", "run_as", "item", "bundle")
_DURATIONS = ("duration", "jeopardy")
_RETRY_DURATIONS = ("interval", "initial", "max")


def check_plan(plan: Mapping[str, Any], expect: Mapping[str, Any], at: DocPath) -> list[Mismatch]:
    steps = {step["id"]: step for step in plan["steps"]}
    found: list[Mismatch] = []
    for i, ref in enumerate(expect.get("present") or ()):
        if not instances(steps, ref):
            found.append(unknown(steps, ref, (*at, "present", i), "presence"))
    for i, ref in enumerate(expect.get("absent") or ()):
        present = instances(steps, ref)
        if present:
            found.append(Mismatch(f"absence of {ref}", "no instance", present, (*at, "absent", i)))
    for ref, count in (expect.get("count") or {}).items():
        actual = len(instances(steps, ref))
        if actual != count:
            found.append(Mismatch(f"instances of {ref}", count, actual, (*at, "count", ref),
                                  ", ".join(instances(steps, ref)) or None))
    if "total" in expect and len(steps) != expect["total"]:
        found.append(Mismatch("step instances in the plan", expect["total"], len(steps), (*at, "total")))
    for ref, facts in (expect.get("steps") or {}).items():
        found += _step_facts(steps, ref, facts, (*at, "steps", ref))
    return found


def _step_facts(steps: Mapping[str, Mapping[str, Any]], ref: str, facts: Mapping[str, Any],
                at: DocPath) -> list[Mismatch]:
    named = instances(steps, ref)
    if not named:
        return [unknown(steps, ref, at, "facts")]
    found: list[Mismatch] = []
    for sid in named:
        step = steps[sid]
        for key, expected in facts.items():
            found += _fact(steps, step, key, expected, (*at, key))
    return found


def _fact(steps: Mapping[str, Mapping[str, Any]], step: Mapping[str, Any], key: str, expected: Any,
          at: DocPath) -> Iterator[Mismatch]:
    sid = step["id"]
    if key in _PLAIN:
        if step.get(key) != expected:
            yield Mismatch(f"{key} of {sid}", expected, step.get(key), at)
    elif key in _DURATIONS:
        wanted = seconds(expected)
        if step.get(key) != wanted:
            yield Mismatch(f"{key} of {sid}", _shown(wanted), _shown(step.get(key)), at)
    elif key == "retry":
        # The keys written must match; the plan may hold more (`retries` of a staggered policy).
        wanted_retry = None if expected is None else normal_retry(expected)
        actual = step.get("retry")
        if wanted_retry is None or actual is None:
            differs = wanted_retry != actual
        else:
            differs = any(actual.get(key) != value for key, value in wanted_retry.items())
        if differs:
            yield Mismatch(f"retry of {sid}", wanted_retry, actual, at)
    elif key == "after":
        yield from _after(steps, sid, step["after"], expected, at)


def _after(steps: Mapping[str, Mapping[str, Any]], sid: str, actual: list[str], expected: list[str],
           at: DocPath) -> Iterator[Mismatch]:
    """Exactly these dependencies: each actual one named by a reference, each reference naming one."""
    def names(dependency: str, ref: str) -> bool:
        return ref in (dependency, steps[dependency]["step"])

    missing = [ref for ref in expected if not any(names(d, ref) for d in actual)]
    extra = [d for d in actual if not any(names(d, ref) for ref in expected)]
    if missing or extra:
        yield Mismatch(f"dependencies of {sid}", sorted(expected), sorted(actual), at,
                       "; ".join(part for part in (missing and f"missing: {', '.join(missing)}",
                                                   extra and f"unexpected: {', '.join(extra)}") if part))


def seconds(value: Any) -> Any:
    """A duration written in a test (`8h`, or seconds as a number) as the plan holds it: seconds."""
    if isinstance(value, str):
        return parse_duration(value)
    return value


def normal_retry(retry: Mapping[str, Any]) -> dict[str, Any]:
    """A retry policy written as in a catalog, with durations in seconds as the plan holds it."""
    normal = dict(retry)
    for key in _RETRY_DURATIONS:
        if key in normal:
            normal[key] = seconds(normal[key])
    if "intervals" in normal and isinstance(normal["intervals"], list):
        normal["intervals"] = [seconds(v) for v in normal["intervals"]]
    return normal


def _shown(value: Any) -> Any:
    return format_duration(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
