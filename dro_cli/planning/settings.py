"""The SLA and fallout settings a step ends up with: its own, else the most specific matching rule (DESIGN 3.3).

`duration` and `jeopardy` come from jeopardy rules; `retry` and `queue` from fallout
rules. A rule matches on the step's `type`, `endpoint` and `flow`; a fallout rule may
also name an `error` code, so which one applies is known only when the step fails:
`resolve` gives the settings for a failure no error-specific rule names, plus one
override per error code that such a rule names.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dsl.retry_policies import RETRY_KEYS

MATCH_KEYS = ("type", "endpoint", "flow")
Rule = Mapping[str, Any]


def resolve(step: Mapping[str, Any], jeopardy_rules: Sequence[Rule], fallout_rules: Sequence[Rule]) -> dict[str, Any]:
    """`duration`, `jeopardy`, `retry`, `queue` and `fallout` (overrides by error code) of a template step."""
    facts = {"type": step["type"], "endpoint": step.get("endpoint"), "flow": step.get("flow")}
    sla = _best(jeopardy_rules, facts)
    settings = {
        "duration": _own_or(step, "duration", sla),
        "jeopardy": _own_or(step, "jeopardy", sla),
        **_fallout_settings(step, _best(fallout_rules, facts)),
    }
    overrides = []
    for code in sorted({rule["match"]["error"] for rule in fallout_rules if "error" in rule["match"]}):
        chosen = _fallout_settings(step, _best(fallout_rules, facts, code))
        if chosen != {"retry": settings["retry"], "queue": settings["queue"]}:
            overrides.append({"error": code, **chosen})
    settings["fallout"] = overrides
    return settings


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
