"""The SLA and fallout settings a step ends up with: its own, else the most specific matching rule (DESIGN 3.3).

`duration` and `jeopardy` come from jeopardy rules; `retry` and `queue` from fallout
rules. A rule matches on the step's `type`, `endpoint` and `flow`; a fallout rule may
also name an `error` code, so which one applies is known only when the step fails:
`resolve` gives the settings for a failure no error-specific rule names, plus one
override per error code that such a rule names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from dsl.retry_policies import RETRY_KEYS

MATCH_KEYS = ("type", "endpoint", "flow")
OWN_KEYS = ("duration", "jeopardy", "retry", "queue")  # a step's own settings, which beat every rule
Rule = Mapping[str, Any]
Facts = tuple[Any, Any, Any]  # a step's type, endpoint and flow: all that rules match on


class _Chosen(NamedTuple):
    """The rules that apply to steps of some facts: the SLA, fallout, and fallout per error code."""

    sla: Rule | None
    fallout: Rule | None
    by_error: tuple[tuple[str, Rule | None], ...]


class Resolver:
    """`resolve` for many steps: which rules apply depends only on a step's facts, of which a catalog has few
    (thousands of steps, a few dozen facts), so the rules are scanned once per distinct facts, not per step."""

    def __init__(self, jeopardy_rules: Sequence[Rule], fallout_rules: Sequence[Rule]) -> None:
        self.jeopardy_rules = jeopardy_rules
        self.fallout_rules = fallout_rules
        self.codes = sorted({rule["match"]["error"] for rule in fallout_rules if "error" in rule["match"]})
        self._chosen: dict[Facts, _Chosen] = {}
        self._by_rules: dict[Facts, dict[str, Any]] = {}  # the settings of steps with none of their own

    def resolve(self, step: Mapping[str, Any]) -> dict[str, Any]:
        """`duration`, `jeopardy`, `retry`, `queue` and `fallout` (overrides by error code) of a template step.

        Steps with none of these of their own, most of them, get the same values for the same facts:
        those are made once, and their `retry` and `fallout` are shared (never changed)."""
        facts = (step["type"], step.get("endpoint"), step.get("flow"))
        chosen = self._chosen.get(facts)
        if chosen is None:
            chosen = self._chosen[facts] = self._choose(dict(zip(MATCH_KEYS, facts, strict=True)))
        if all(step.get(key) is None for key in OWN_KEYS):
            settings = self._by_rules.get(facts)
            if settings is None:
                settings = self._by_rules[facts] = self._settings(step, chosen)
            return dict(settings)
        return self._settings(step, chosen)

    def _settings(self, step: Mapping[str, Any], chosen: _Chosen) -> dict[str, Any]:
        settings = {
            "duration": _own_or(step, "duration", chosen.sla),
            "jeopardy": _own_or(step, "jeopardy", chosen.sla),
            **_fallout_settings(step, chosen.fallout),
        }
        overrides = []
        for code, rule in chosen.by_error:
            settings_for_code = _fallout_settings(step, rule)
            if settings_for_code != {"retry": settings["retry"], "queue": settings["queue"]}:
                overrides.append({"error": code, **settings_for_code})
        settings["fallout"] = overrides
        return settings

    def _choose(self, facts: Mapping[str, Any]) -> _Chosen:
        return _Chosen(_best(self.jeopardy_rules, facts), _best(self.fallout_rules, facts),
                       tuple((code, _best(self.fallout_rules, facts, code)) for code in self.codes))


def resolve(step: Mapping[str, Any], jeopardy_rules: Sequence[Rule], fallout_rules: Sequence[Rule]) -> dict[str, Any]:
    """`duration`, `jeopardy`, `retry`, `queue` and `fallout` (overrides by error code) of a template step."""
    return Resolver(jeopardy_rules, fallout_rules).resolve(step)


def _fallout_settings(step: Mapping[str, Any], rule: Rule | None) -> dict[str, Any]:
    return {"retry": step["retry"] if step.get("retry") is not None else _retry_of(rule),
            "queue": _own_or(step, "queue", rule)}


def _retry_of(rule: Rule | None) -> dict[str, Any] | None:
    if rule is None or rule.get("policy") is None:
        return None
    return {"policy": rule["policy"], **{key: rule[key] for key in RETRY_KEYS if rule.get(key) is not None}}


def _own_or(step: Mapping[str, Any], key: str, rule: Rule | None) -> Any:
    own = step.get(key)
    return own if own is not None else (None if rule is None else rule.get(key))


def _best(rules: Iterable[Rule], facts: Mapping[str, Any], error: str | None = None) -> Rule | None:
    """The matching rule that names the most keys (ties are refused at compile time: DRO317)."""
    matching = [rule for rule in rules if _matches(rule["match"], facts, error)]
    return max(matching, key=lambda rule: (len(rule["match"]), rule["id"]), default=None)


def _matches(match: Mapping[str, Any], facts: Mapping[str, Any], error: str | None) -> bool:
    return match.get("error") in (None, error) and all(facts[key] == match[key] for key in MATCH_KEYS if key in match)
