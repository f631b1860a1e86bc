"""Settings checks: SLA thresholds, retry policies, and how jeopardy and fallout rules match."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from dsl.catalog import Catalog, Decl
from dsl.diagnostics import Diagnostic, article, error, warning
from dsl.durations import format_duration, parse_duration
from dsl.retry_policies import POLICY_ALLOWS, POLICY_NEEDS, RETRY_KEYS

_MATCH_KEYS = ("type", "endpoint", "flow")


def check_settings(catalog: Catalog) -> Iterator[Diagnostic]:
    for step in catalog.valid(catalog.steps):
        yield from _sla(step, step.data)
        retry = step.data.get("retry")
        if isinstance(retry, dict):
            yield from check_retry(step, retry, ("retry",))
    for rule in catalog.valid(catalog.jeopardy_rules):
        yield from _sla(rule, rule.data)
    for rule in catalog.valid(catalog.fallout_rules):
        yield from check_retry(rule, rule.data, ())
    yield from _rule_matches(catalog, catalog.jeopardy_rules, with_error=False)
    yield from _rule_matches(catalog, catalog.fallout_rules, with_error=True)


def _sla(decl: Decl, data: Mapping[str, Any]) -> Iterator[Diagnostic]:
    duration = parse_duration(data.get("duration", ""))
    jeopardy = parse_duration(data.get("jeopardy", ""))
    if duration is not None and jeopardy is not None and jeopardy >= duration:
        yield error("DRO308", f"jeopardy threshold {data['jeopardy']} is not below duration {data['duration']}",
                    decl.span("jeopardy"),
                    detail="A step goes into jeopardy this long before it is due, so the threshold must be "
                           "shorter than the estimated duration.",
                    hint=f"make jeopardy shorter than {data['duration']}, "
                         f"e.g. {format_duration(duration / 4)}")


def check_retry(decl: Decl, retry: Mapping[str, Any], at: tuple[str, ...]) -> Iterator[Diagnostic]:
    policy = retry.get("policy")
    present = {k for k in RETRY_KEYS if k in retry}
    if policy is None:
        if present:
            yield error("DRO309", "retry settings without a policy", decl.key_span(*at, sorted(present)[0]),
                        hint="add `policy` (immediate, monotonous, staggered or exponential)")
        return
    if policy not in POLICY_NEEDS:
        return  # the schema reports it
    for key in sorted(POLICY_NEEDS[policy] - present):
        yield error("DRO309", f"{article(policy)} {policy} retry needs '{key}'", decl.key_span(*at, "policy"),
                    detail=_POLICY_HELP[policy], hint=f"add `{key}`")
    for key in sorted(present - POLICY_ALLOWS[policy]):
        yield error("DRO309", f"'{key}' does not apply to {article(policy)} {policy} retry", decl.key_span(*at, key),
                    detail=_POLICY_HELP[policy], hint="remove it, or choose another policy")
    intervals, retries = retry.get("intervals"), retry.get("retries")
    if policy == "staggered" and isinstance(intervals, list) and retries is not None and retries != len(intervals):
        yield error("DRO309", f"retries is {retries} but there are {len(intervals)} intervals",
                    decl.span(*at, "retries"), detail=_POLICY_HELP[policy],
                    hint="remove `retries`: a staggered retry tries once per interval")
    initial, limit = parse_duration(retry.get("initial", "")), parse_duration(retry.get("max", ""))
    if policy == "exponential" and initial is not None and limit is not None and limit < initial:
        yield error("DRO309", f"max {retry['max']} is below initial {retry['initial']}",
                    decl.span(*at, "max"), detail=_POLICY_HELP[policy], hint="make max at least initial")


_POLICY_HELP = {
    "immediate": "An immediate retry tries again at once, `retries` times.",
    "monotonous": "A monotonous retry waits the same `interval` before each of its `retries`.",
    "staggered": "A staggered retry waits each of its `intervals` in turn, one retry per interval.",
    "exponential": "An exponential retry waits `initial`, then multiplies the wait by `factor` "
                   "(default 2) up to `max`, `retries` times.",
}


def specificity(rule: Mapping[str, Any]) -> int:
    return len(rule.get("match", {}))


class RuleIndex:
    """Rules by their match, so a step finds its rules with one lookup per key combination."""

    _COMBINATIONS: ClassVar[list[tuple[str, ...]]] = [
        keys for n in range(1, len(_MATCH_KEYS) + 1) for keys in itertools.combinations(_MATCH_KEYS, n)]

    def __init__(self, rules: list[Decl]) -> None:
        self.by_match: dict[tuple[tuple[str, ...], tuple[Any, ...]], list[Decl]] = {}
        for rule in rules:
            match = rule.data.get("match", {})
            keys = tuple(k for k in _MATCH_KEYS if k in match)
            self.by_match.setdefault((keys, tuple(match[k] for k in keys)), []).append(rule)

    def matching(self, step: Mapping[str, Any]) -> list[Decl]:
        found: list[Decl] = []
        for keys in self._COMBINATIONS:
            found.extend(self.by_match.get((keys, tuple(step.get(k) for k in keys)), ()))
        return found


def _rule_matches(catalog: Catalog, rules: dict[str, Decl], *, with_error: bool) -> Iterator[Diagnostic]:
    valid = sorted(catalog.valid(rules), key=lambda r: r.id)
    index = RuleIndex(valid)
    steps = list(catalog.valid(catalog.steps))
    reported: set[tuple[str, str]] = set()
    used: set[str] = set()
    for step in steps:
        matching = sorted(index.matching(step.data), key=lambda r: r.id)
        used.update(r.id for r in matching)
        errors = {r.data["match"].get("error") for r in matching} if with_error else {None}
        for code in sorted(errors, key=str):
            candidates = [r for r in matching if r.data["match"].get("error") in (None, code)]
            if not candidates:
                continue
            best = max(specificity(r.data) for r in candidates)
            top = [r for r in candidates if specificity(r.data) == best]
            for first, second in itertools.pairwise(top):
                if (first.id, second.id) in reported:
                    continue
                reported.add((first.id, second.id))
                yield error("DRO317", f"rules '{first.id}' and '{second.id}' both match step '{step.id}'",
                            second.key_span("match"),
                            detail="The most specific rule wins, but these two match with the same number "
                                   f"of keys, so neither is more specific (the other is at {first.where}).",
                            hint="make one of them more specific, or merge them")
    for rule in valid:
        if rule.id not in used:
            kind = rule.kind.replace("_", " ")
            yield warning("DRO316", f"{kind} '{rule.id}' matches no step", rule.key_span("match"),
                          detail="No step of the catalog has the type, endpoint and flow this rule matches.",
                          hint="fix the match, or remove the rule")
