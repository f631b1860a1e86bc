"""A step's context: its dependencies' outputs read on first use, a flow's step fields read-only."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path
from typing import Any

from dro_cli.engine.machine import Engine
from dro_cli.journal.file import order_dir, read, write_plan
from dro_cli.journal.store import OpenOrder
from dro_cli.runtime.runner import Runner
from dro_cli.runtime.step_context import StepContexts

T0 = 1_796_119_200.0


def step(sid: str, after: list[str], config: dict[str, Any], run_as: str | None = None) -> dict[str, Any]:
    return {"id": sid, "step": sid, "title": sid, "type": "auto", "lane": "l", "scope": "plan", "item": None,
            "bundle": None, "after": after, "run_as": run_as, "duration": None, "jeopardy": None, "retry": None,
            "queue": None, "fallout": [], "config": config}


def plan(*steps: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": 1, "kind": "dro/plan", "order": "ORD-1", "templates": "sha256:" + "0" * 64,
            "lanes": {"l": {"title": "L"}}, "endpoints": {},
            "context": {"order": {"id": "ORD-1", "account": "ACME", "attributes": {}}, "bundles": {}, "items": {}},
            "steps": list(steps)}


def test_the_context_is_the_whole_context_with_the_outputs_read_when_asked() -> None:
    engine = Engine(plan(step("a", [], {"flow": "m:f"}), step("b", ["a"], {"flow": "m:f"})))
    context = StepContexts(engine).of("b", 2)
    for kind, payload in [("plan.created", {}), ("step.ready", {"steps": ["a"]}),
                          ("step.started", {"step": "a", "attempt": 1, "idempotency_key": "ORD-1/a/1"}),
                          ("step.completed", {"step": "a", "attempt": 1, "outputs": {"x": 1}})]:
        engine.apply(kind, payload, T0)
    assert dict(context) == {
        "order": {"id": "ORD-1", "account": "ACME", "attributes": {}, "items": []}, "item": None, "bundle": None,
        "plan": {"id": "ORD-1"}, "step": {"id": "b", "attempt": 2}, "outputs": {"a": {"x": 1}}}
    assert context == dict(context) and len(context) == 6 and "outputs" in context and "other" not in context
    assert context["outputs"] is context["outputs"]  # gathered once


def test_a_run_renders_outputs_and_a_run_as_template_per_attempt(tmp_path: Path) -> None:
    module = f"flows_{uuid.uuid4().hex}"
    (tmp_path / f"{module}.py").write_text(
        "def make(ctx):\n    return {'x': ctx['attempt'] + 41}\n\n"
        "def show(ctx):\n    return {'inputs': ctx['inputs'], 'run_as': ctx['step']['run_as']}\n")
    steps = [step("a", [], {"flow": f"{module}:make"}),
             step("b", ["a"], {"flow": f"{module}:show", "inputs": {"x": "{{ outputs.a.x }}"}}, "{{ order.account }}"),
             step("c", ["a"], {"flow": f"{module}:show"}, "ops")]
    path = order_dir(tmp_path / "state", "ORD-1")
    try:
        with OpenOrder(path):
            write_plan(path, plan(*steps))
        with OpenOrder(path) as order:
            engine = order.load_plan()
            order.append([("plan.created", {})], T0)
            engine.apply("plan.created", {}, T0)
            Runner(order, catalog_dir=tmp_path, clock=time.time).run()
    finally:
        sys.modules.pop(module, None)
    outputs = {r["payload"]["step"]: r["payload"]["outputs"] for r in read(path / "journal.jsonl")
               if r["type"] == "step.completed"}
    assert outputs == {"a": {"x": 42}, "b": {"inputs": {"x": "42"}, "run_as": "ACME"},
                       "c": {"inputs": {}, "run_as": "ops"}}


def test_one_plan_step_in_two_contexts_renders_its_run_as_in_each(tmp_path: Path) -> None:
    from dro_cli.runtime.handlers import Invocation, run_step

    module = f"flows_{uuid.uuid4().hex}"
    (tmp_path / f"{module}.py").write_text("def who(ctx):\n    return {'run_as': ctx['step']['run_as']}\n")
    templated = step("a", [], {"flow": f"{module}:who"}, "{{ order.account }}-bot")
    fixed = step("b", [], {"flow": f"{module}:who"}, "ops")
    try:
        seen = [run_step(Invocation(s, 1, f"ORD-1/{s['id']}/1", {"order": {"account": account}}, {}, tmp_path))
                .outputs["run_as"] for s in (templated, fixed) for account in ("ACME", "INITECH")]
    finally:
        sys.modules.pop(module, None)
    assert seen == ["ACME-bot", "INITECH-bot", "ops", "ops"]
