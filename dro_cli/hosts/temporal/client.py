"""The client side of the verbs on Temporal: connect, start or continue an order's workflow, read and act.

The plan is made here, as `dro run` makes it locally (the catalog is read by the client); the workflow
gets the plan and `plan.created` and from then on the history is the order's journal.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from dro_cli.errors import EXIT_USAGE, DroError
from dro_cli.hosts.temporal import WORKFLOW
from dro_cli.hosts.temporal.workflow import REFUSED

View = dict[str, Any]  # the workflow's `view` query: status, lanes, created, notes
T = TypeVar("T")


def _server_errors(call: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., Coroutine[Any, Any, T]]:
    """A verb's call: what the server refuses (no worker polls the queue, a timeout) is a DroError, exit 2."""

    @functools.wraps(call)
    async def calling(settings: Settings, *args: Any, **kwargs: Any) -> T:
        try:
            return await call(settings, *args, **kwargs)
        except (RPCError, WorkflowQueryFailedError) as error:
            idle = "no poller" in str(error)
            raise DroError(f"Temporal at {settings.address} did not answer: {_first_line(error)}",
                           exit_code=EXIT_USAGE,
                           hint=f"start a worker on task queue {settings.task_queue!r}: dro worker --task-queue "
                                f"{settings.task_queue}" if idle else
                                "see `temporal workflow describe --workflow-id ORDER_ID`") from None

    return calling


@dataclass(frozen=True)
class Settings:
    address: str
    namespace: str
    task_queue: str


async def connect(settings: Settings) -> Client:
    """A client of the server at `settings.address`; unreachable, a DroError (exit 2) that says where."""
    try:
        return await Client.connect(settings.address, namespace=settings.namespace)
    except (RuntimeError, RPCError, OSError) as error:
        raise DroError(f"cannot reach the Temporal server at {settings.address} (namespace {settings.namespace}): "
                       f"{_first_line(error)}", exit_code=EXIT_USAGE,
                       hint="start one (`temporal server start-dev`, docs/temporal.md) or give --temporal-address "
                            "HOST:PORT (or $DRO_TEMPORAL_ADDRESS); nothing was started") from None


@_server_errors
async def run_order(target: str, settings: Settings, *, catalog: Path | None, allow_empty: bool) -> View:
    """`dro run TARGET --engine temporal`: a file starts its order's workflow (or continues it, if that file
    started it); an order id continues it. Returns the view once the order settles."""
    path = Path(target)
    client = await connect(settings)
    await _require_worker(client, settings)
    if not path.is_file():
        return await settle(_handle(client, target))
    from dro_cli.planning.orders import load_order
    from dro_cli.runtime.api import NotPlanned, RunOptions, plan_new
    from dsl.diagnostics import has_errors

    loaded = load_order(path)
    if loaded.order is None or has_errors(loaded.diagnostics):
        raise NotPlanned(list(loaded.diagnostics), loaded.sources, usage_error=True)
    order_id, order_sha = loaded.order.id, hashlib.sha256(path.read_bytes()).hexdigest()
    handle = _handle(client, order_id)
    if await _exists(handle):
        await _check_same_file(handle, order_id, order_sha)
        return await settle(handle)
    planned = plan_new(path, RunOptions(Path("."), catalog=catalog, allow_empty=allow_empty), loaded)
    assert planned.plan is not None and catalog is not None
    plan = planned.plan
    resolved = catalog.resolve()
    created = {"order": order_id, "order_file": str(path.resolve()), "order_sha256": order_sha,
               "catalog": str(resolved), "templates": plan["templates"],
               "plan_sha256": hashlib.sha256(json.dumps(plan, sort_keys=True).encode()).hexdigest(),
               "steps": len(plan["steps"])}
    flows_dir = resolved.parent if resolved.suffix == ".json" else resolved
    start = {"plan": plan, "created": created, "catalog_dir": str(flows_dir)}
    try:
        await client.start_workflow(WORKFLOW, start, id=order_id, task_queue=settings.task_queue,
                                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE)
    except WorkflowAlreadyStartedError:  # another client started it meanwhile: continue it as above
        await _check_same_file(handle, order_id, order_sha)
    return await settle(handle)


@_server_errors
async def read(settings: Settings, order_id: str) -> View:
    """The order's view, from the workflow's query (a worker answers it, from the history)."""
    client = await connect(settings)
    await _require_worker(client, settings)
    handle = _handle(client, order_id)
    await _require(handle, order_id)
    result: View = await handle.query("view")
    return result


@_server_errors
async def act(settings: Settings, order_id: str, request: dict[str, Any]) -> View:
    """An operator's act, as a workflow update: refused by its validator (exit 2) before it is recorded."""
    client = await connect(settings)
    await _require_worker(client, settings)
    handle = _handle(client, order_id)
    await _require(handle, order_id)
    try:
        result: View = await handle.execute_update("act", request)
    except WorkflowUpdateFailedError as failed:
        raise _refusal(failed) from None
    return result


async def settle(handle: WorkflowHandle[Any, Any]) -> View:
    """The view once nothing runs and nothing more can happen now (at once, for a finished order)."""
    description = await handle.describe()
    if description.status != WorkflowExecutionStatus.RUNNING:
        result: View = await handle.query("view")
        return result
    settled: View = await handle.execute_update("settled")
    return settled


async def _require_worker(client: Client, settings: Settings) -> None:
    """Refuse before anything starts when no worker polls the task queue: the workflow would not move, and
    the verb would wait for it."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    described = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
        namespace=settings.namespace, task_queue=TaskQueue(name=settings.task_queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW))
    if not described.pollers:
        raise DroError(f"no dro worker polls the task queue {settings.task_queue!r} on {settings.address}",
                       exit_code=EXIT_USAGE, hint=f"start one: dro worker --task-queue {settings.task_queue} "
                                                  f"--temporal-address {settings.address}; nothing was started")


def _handle(client: Client, order_id: str) -> WorkflowHandle[Any, Any]:
    return client.get_workflow_handle(order_id)


async def _exists(handle: WorkflowHandle[Any, Any]) -> bool:
    try:
        await handle.describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def _require(handle: WorkflowHandle[Any, Any], order_id: str) -> None:
    if not await _exists(handle):
        raise DroError(f"no order {order_id} on Temporal (no workflow with that id in this namespace)",
                       exit_code=EXIT_USAGE, hint="start it with `dro run ORDER_FILE --catalog DIR --engine temporal`")


async def _check_same_file(handle: WorkflowHandle[Any, Any], order_id: str, order_sha: str) -> None:
    view: View = await handle.query("view")
    created = view["created"]
    if created.get("order_sha256") != order_sha:
        raise DroError(f"order {order_id} runs from a different order file ({created.get('order_file')})",
                       exit_code=EXIT_USAGE, hint=f"continue it with `dro run {order_id} --engine temporal`")


def _refusal(failed: WorkflowUpdateFailedError) -> DroError:
    cause: BaseException | None = failed.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = getattr(cause, "cause", None)
    if isinstance(cause, ApplicationError) and cause.type == REFUSED:
        details = [*list(cause.details), "", ""]
        return DroError(str(details[0] or cause.message), hint=str(details[1]) or None, exit_code=EXIT_USAGE)
    return DroError(f"the workflow refused the act: {failed.cause or failed}", exit_code=EXIT_USAGE)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
