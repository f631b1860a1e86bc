"""Settings from rules: a step's own beat every rule, the most specific rule wins, error codes pick overrides."""

from __future__ import annotations

from typing import Any

from dro_cli.engine.machine import Engine
from dro_cli.engine.retry import for_error
from dro_cli.planning.settings import resolve

RETRY = {"policy": "immediate", "retries": 1}
JEOPARDY = [
    {"id": "callouts", "match": {"type": "callout"}, "duration": 14400, "jeopardy": 1800},
    {"id": "wms_calls", "match": {"type": "callout", "endpoint": "wms"}, "duration": 3600, "jeopardy": 600},
]
FALLOUT = [
    {"id": "any_callout", "match": {"type": "callout"}, "policy": "monotonous", "retries": 2, "interval": 60,
     "queue": "integration"},
    {"id": "wms_down", "match": {"type": "callout", "endpoint": "wms", "error": "http_503"}, "policy": "staggered",
     "intervals": [10, 60], "queue": "inventory_fallout"},
    {"id": "billing", "match": {"flow": "m:bill"}, "policy": "immediate", "retries": 1, "queue": "billing"},
]


def template(kind: str = "callout", **own: Any) -> dict[str, Any]:
    return {"type": kind, "endpoint": own.pop("endpoint", "wms" if kind == "callout" else None),
            "flow": own.pop("flow", None), "duration": None, "jeopardy": None, "retry": None, "queue": None, **own}


def test_the_most_specific_jeopardy_rule_gives_the_sla() -> None:
    assert resolve(template(), JEOPARDY, [])["duration"] == 3600
    assert resolve(template(endpoint="crm"), JEOPARDY, [])["jeopardy"] == 1800
    assert resolve(template("manual"), JEOPARDY, [])["duration"] is None


def test_a_steps_own_settings_beat_every_rule() -> None:
    settings = resolve(template(duration=60, jeopardy=30, retry=RETRY, queue="mine"), JEOPARDY, FALLOUT)
    assert (settings["duration"], settings["jeopardy"], settings["retry"], settings["queue"]) == (60, 30, RETRY, "mine")
    assert settings["fallout"] == []  # no rule overrides a step's own retry and queue, whatever the error


def test_an_error_code_rule_overrides_for_that_code_only() -> None:
    settings = resolve(template(), JEOPARDY, FALLOUT)
    assert settings["retry"] == {"policy": "monotonous", "retries": 2, "interval": 60}
    assert settings["queue"] == "integration"
    assert settings["fallout"] == [{"error": "http_503", "retry": {"policy": "staggered", "intervals": [10, 60]},
                                    "queue": "inventory_fallout"}]
    assert for_error({**template(), **settings}, "http_503")["queue"] == "inventory_fallout"
    assert for_error({**template(), **settings}, "timeout")["queue"] == "integration"


def test_own_queue_with_a_rule_retry_per_error_code() -> None:
    settings = resolve(template(queue="mine"), [], FALLOUT)
    assert settings["fallout"] == [{"error": "http_503", "retry": {"policy": "staggered", "intervals": [10, 60]},
                                    "queue": "mine"}]


def test_flow_rules_match_on_the_flow() -> None:
    assert resolve(template("auto", flow="m:bill"), [], FALLOUT)["queue"] == "billing"
    assert resolve(template("auto", flow="m:other"), [], FALLOUT)["queue"] is None


def test_the_engine_falls_out_to_the_queue_the_error_code_picks() -> None:
    step = {"id": "reserve", "step": "reserve", "title": "r", "type": "callout", "lane": "l", "scope": "plan",
            "item": None, "bundle": None, "after": [], "run_as": None, "config": {"endpoint": "wms"},
            **resolve(template(), JEOPARDY, FALLOUT)}
    engine = Engine({"order": "O", "steps": [step], "context": {}, "endpoints": {}})
    engine.advance(0.0)
    failed = engine.outcome("reserve", 1, False, 0.0, error="http_503")
    assert failed is not None and failed[1]["retry_at"] == "1970-01-01T00:00:10Z"  # staggered: 10 s first
    engine.advance(10.0)
    engine.outcome("reserve", 2, False, 10.0, error="http_503")
    engine.advance(70.0)
    last = engine.outcome("reserve", 3, False, 70.0, error="http_503")
    assert last is not None and last[1]["queue"] == "inventory_fallout"
