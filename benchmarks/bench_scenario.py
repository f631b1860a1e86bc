"""scenario: `dro test`'s simulated runs, beside the bare engine driving the same plans.

Each figure beside a baseline measured in the same run:

- `simulate-10k`: a scenario test's simulation (`dro_cli.scenario_tests.simulation`)
  running the 10,000-step random plan of bench_run (half no-op auto steps, half
  milestones) to completion, each auto step answered by its scripted `{outputs: {}}`,
  its inputs rendered as its handler would render them. The baseline is the bare
  engine on the same plan, doing the work any driver that checks the templates must
  do: `advance`, then for every step it starts, its inputs rendered by the same
  sandboxed Jinja (with a context of the order and the step only) and `outcome(ok)`,
  until the plan completes. The ratio is what the simulation adds (answers looked
  up, full template contexts with the dependencies' outputs); target <= 1.5x.
- `simulate-days` (informational): 200 pauses in a chain, each resumed by its timer a
  day after it starts: 200 days of virtual time, moved by one `advance`. The baseline
  is the bare engine firing the same timers (`next_timer`, `advance`), so the ratio
  is the cost of the simulation's clock; the figure says how long 200 days take.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bench_run import SEED, T0, make_plan, make_step, random_dag_plan
from common import Context, Result, compare, time_each

STEPS = 10_000
DAYS = 200
TARGET_SIMULATE = 1.5
TARGET_DAYS = 10.0  # informational


def run(ctx: Context) -> Iterator[Result]:
    """Scenario tests: a 10k-step simulated run and 200 days of pause timers, against the bare engine."""
    plan = random_dag_plan("ORD-SIM", STEPS, SEED)
    for step in plan["steps"]:
        if step["type"] == "auto":
            step["config"]["inputs"] = {"order": "{{ order.id }}", "attempt": "{{ step.attempt }}"}
    answers = {step["id"]: [{"outputs": {}}] for step in plan["steps"] if step["type"] == "auto"}
    repeat = ctx.repeats()
    timings = time_each({"simulation": lambda: _simulate(plan, answers, 0.0),
                            "engine": lambda: _bare_engine(plan, 0.0)}, repeat, _completed)
    yield compare("simulate-10k", timings, "simulation", "engine", TARGET_SIMULATE,
                  notes=[f"{STEPS} steps, half auto (answered), half milestones"])
    days = _pause_chain(DAYS)
    timings = time_each({"simulation": lambda: _simulate(days, {}, DAYS * 86400.0),
                            "engine": lambda: _bare_engine(days, DAYS * 86400.0)}, repeat, _completed)
    yield compare("simulate-days", timings, "simulation", "engine", TARGET_DAYS,
                  notes=[f"{DAYS} pauses of a day each: {DAYS} days of virtual time"])


def _simulate(plan: dict[str, Any], answers: dict[str, Any], until: float) -> str:
    from dro_cli.scenario_tests.simulation import Simulation

    sim = Simulation(plan, answers, T0)
    if until:
        sim.advance_to(T0 + until)
    return str(sim.engine.state)


def _bare_engine(plan: dict[str, Any], until: float) -> str:
    from dro_cli.engine.machine import Engine
    from dro_cli.runtime.handlers.render import render

    engine = Engine(plan)
    order = plan["context"]["order"]
    now = T0
    while True:
        events = engine.advance(now)
        started = [p for kind, p in events if kind == "step.started"]
        for payload in started:
            inputs = engine.steps[payload["step"]]["config"].get("inputs")
            if inputs:
                render(inputs, {"order": order, "step": {"id": payload["step"], "attempt": payload["attempt"]}},
                       "inputs")
            engine.outcome(payload["step"], payload["attempt"], True, now, outputs={})
        if started:
            continue
        when = engine.next_timer()
        if when is None or when > T0 + until:
            return str(engine.state)
        now = when


def _completed(name: str, state: object) -> None:
    from common import BenchmarkError

    if state != "completed":
        raise BenchmarkError(f"{name}: the plan ended {state}, not completed")


def _pause_chain(size: int) -> dict[str, Any]:
    ids = [f"p{i:03d}" for i in range(size)]
    return make_plan("ORD-DAYS", [make_step(sid, "pause", ids[i - 1:i], {"resume_after": 86400})
                                  for i, sid in enumerate(ids)])
