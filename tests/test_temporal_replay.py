"""Determinism: recorded histories of the sample orders replay with Temporal's Replayer against the workflow
as it is now, so a change to the engine or the workflow that would break running orders fails here (the
fix: `workflow.patched`, docs/temporal.md). tests/data/temporal/*.history.json are recorded by
tests/test_temporal.py when DRO_RECORD_HISTORIES=1. Needs temporalio only; no server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from temporal_server import require_temporal

pytestmark = pytest.mark.temporal

HISTORIES = Path(__file__).parent / "data" / "temporal"


def replay(history_json: str, workflow_id: str) -> None:
    """Replay one history (the JSON of `temporal workflow show --output json`); raises if it diverges."""
    from temporalio.client import WorkflowHistory
    from temporalio.worker import Replayer

    from dro_cli.hosts.temporal.worker import SANDBOX
    from dro_cli.hosts.temporal.workflow import OrderWorkflow

    replayer = Replayer(workflows=[OrderWorkflow], workflow_runner=SANDBOX)
    asyncio.run(replayer.replay_workflow(WorkflowHistory.from_json(workflow_id, history_json)))


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.history.json")), ids=lambda p: p.name)
def test_a_recorded_history_replays(path: Path) -> None:
    require_temporal()
    replay(path.read_text(), path.name.split(".")[0])


def test_a_history_the_workflow_would_not_make_is_refused() -> None:
    """The replay can fail: a history whose order started another step than the engine would start."""
    require_temporal()
    path = sorted(HISTORIES.glob("*.history.json"))[0]
    history = json.loads(path.read_text())
    events = history["events"]
    scheduled = next(e for e in events if e.get("activityTaskScheduledEventAttributes"))
    scheduled["activityTaskScheduledEventAttributes"]["activityType"]["name"] = "not.dro"
    with pytest.raises(Exception, match=r"(?i)nondetermin"):
        replay(json.dumps(history), path.name.split(".")[0])
