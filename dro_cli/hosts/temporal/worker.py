"""`dro worker`: polls a task queue, runs order workflows (the engine) and step activities (the handlers)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from dro_cli.hosts.temporal.activities import run_step
from dro_cli.hosts.temporal.client import Settings, connect
from dro_cli.hosts.temporal.workflow import OrderWorkflow

# The sandbox stays on; dro's own modules pass through it (they are deterministic where the workflow calls
# them, the engine by contract) so that each workflow does not import the engine again.
SANDBOX = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_modules("dro_cli", "dsl"))


def make_worker(client: Client, task_queue: str, *, parallel: int, workflows: bool = True,
                executor: concurrent.futures.Executor) -> Worker:
    return Worker(client, task_queue=task_queue, workflows=[OrderWorkflow] if workflows else [],
                  activities=[run_step], activity_executor=executor, max_concurrent_activities=parallel,
                  workflow_runner=SANDBOX)


async def serve(settings: Settings, *, parallel: int, workflows: bool = True,
                ready: Callable[[], None] | None = None) -> None:
    """Run a worker until cancelled (Ctrl-C, SIGTERM): activities on `parallel` threads."""
    client = await connect(settings)
    with concurrent.futures.ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="dro-step") as executor:
        worker = make_worker(client, settings.task_queue, parallel=parallel, workflows=workflows, executor=executor)
        async with worker:
            if ready is not None:
                ready()
            await asyncio.Event().wait()
