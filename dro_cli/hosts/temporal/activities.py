"""The activity: one attempt of one auto or callout step, run by the same handlers as the local runtime.

Temporal never retries it (the workflow starts it with maximum_attempts=1): dro's retry policies and
fallout queues decide what a failure leads to, as they do locally. The handler's own failures (an
HTTP 503, a flow's exception, a timeout) come back as an outcome, not as an activity failure.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio import activity

from dro_cli.hosts.temporal import ACTIVITY, HEARTBEAT_EVERY
from dro_cli.runtime.handlers.base import Invocation, Outcome


@activity.defn(name=ACTIVITY)
def run_step(request: dict[str, Any]) -> dict[str, Any]:
    """`request` is what the workflow's `step_request` made: the step, its attempt, its idempotency key and
    template context. The answer is the handler's Outcome as plain data."""
    from dro_cli.runtime.handlers import run_step as handle

    catalog_dir = request.get("catalog_dir")
    invocation = Invocation(request["step"], request["attempt"], request["idempotency_key"], request["context"],
                            request["endpoints"], Path(catalog_dir) if catalog_dir else None, dict(os.environ),
                            attempt_id=request["attempt_id"], restarted=bool(request.get("restarted")))
    outcome = _beating(handle, invocation)
    return {"ok": outcome.ok, "outputs": dict(outcome.outputs), "error": outcome.error or "",
            "message": outcome.message, "retryable": outcome.retryable, "notes": list(outcome.notes)}


def _beating(handle: Callable[[Invocation], Outcome], invocation: Invocation) -> Outcome:
    """The handler's outcome, heartbeating while it runs: a worker that dies (SIGKILL, a lost machine) stops
    beating, so Temporal times the attempt out within the heartbeat timeout and the workflow sends it again."""
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="dro-step-handler") as pool:
        running = pool.submit(handle, invocation)
        while True:
            try:
                return running.result(timeout=HEARTBEAT_EVERY)
            except concurrent.futures.TimeoutError:
                activity.heartbeat()
