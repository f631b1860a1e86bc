"""Amending and cancelling running orders (docs/amending.md) through the CLI, on a catalog of manual steps:
the reconciliation, compensation in reverse dependency order, the point of no return, the frozen plan,
and bad input that writes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from dro_cli.engine.states import StepState
from dro_cli.journal.store import OpenOrder, read_order
from dro_cli.main import cli
from dro_cli.runtime.step_context import StepContexts
from dsl.schemas import validator

CATALOG = Path(__file__).parent / "data" / "amend"
NOW = "2026-12-01T10:00:00Z"
ORDER: dict[str, Any] = {"order": {"id": "A-1", "account": "C-1", "items": [
    {"id": "R1", "product": "DEV", "quantity": 1, "action": "add", "attributes": {"model": "X", "speed": 100}},
    {"id": "T1", "product": "DEV", "quantity": 2, "action": "add", "attributes": {"model": "TV", "speed": 0}},
    {"id": "M1", "product": "MOB", "quantity": 1, "action": "add", "attributes": {"msisdn": "123", "tariff": "S"}},
]}}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"NO_COLOR": "1", "DRO_STATE_DIR": str(tmp_path / "state"), "DRO_NOW": NOW, "DRO_OPERATOR": "ann",
            "DRO_CATALOG": ""}


def dro(env: dict[str, str], *args: str) -> Result:
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False, prog_name="dro")


def order_file(tmp_path: Path, name: str, change: Any = None) -> Path:
    data = json.loads(json.dumps(ORDER))
    if change is not None:
        change(data["order"])
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def item(order: dict[str, Any], item_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(i for i in order["items"] if i["id"] == item_id)
    return found


def speed(value: int) -> Any:
    return lambda order: item(order, "R1")["attributes"].update(speed=value)


def order_dir(env: dict[str, str]) -> Path:
    return Path(env["DRO_STATE_DIR"]) / "orders" / "A-1"


def files(env: dict[str, str]) -> dict[str, bytes]:
    """Every file of the order but the lock and the caches, to show that a refusal wrote nothing."""
    return {p.name: p.read_bytes() for p in sorted(order_dir(env).iterdir())
            if p.name not in ("lock", "digest.json", "snapshot.json")}


def states(env: dict[str, str]) -> dict[str, str]:
    engine = read_order(order_dir(env)).engine
    return {sid: str(run.state) for sid, run in engine.runs.items()}


@pytest.fixture
def started(env: dict[str, str], tmp_path: Path) -> Path:
    """Order A-1 running: R1's router shipped and activated, T1 shipped, M1 configured (port waiting)."""
    first = order_file(tmp_path, "A-1.yaml")
    assert dro(env, "run", str(first), "--catalog", str(CATALOG)).exit_code == 0
    for step, outputs in (("ship[R1]", ["parcel=P1"]), ("activate[R1]", ["speed=100"]), ("ship[T1]", ["parcel=P2"]),
                          ("configure[M1]", [])):
        args = [arg for output in outputs for arg in ("--output", output)]
        assert dro(env, "complete", "A-1", step, *args).exit_code == 0, step
    return first


def test_the_preview_reconciles_and_writes_nothing(env: dict[str, str], tmp_path: Path, started: Path) -> None:
    before = files(env)
    shown = dro(env, "plan", "--amend", "A-1", str(order_file(tmp_path, "r2.yaml", speed(500))))
    assert shown.exit_code == 0, shown.output
    assert "order A-1 would become revision 2 (planned with its pinned templates)" in shown.output
    assert "~ amended      activate[R1]" in shown.output
    assert "item.attributes.speed changed from 100 to 500" in shown.output
    assert "< compensation reprofile[r2:activate[R1]]" in shown.output
    as_json = dro(env, "plan", "--amend", "A-1", str(tmp_path / "r2.yaml"), "--format", "json")
    document = json.loads(as_json.output)
    validator("amendment").validate(document)
    assert document["applied"] is False and document["plan_file"] is None
    assert [(c["step"], c["fate"]) for c in document["changes"]] == [("activate[R1]", "amended")]
    assert document["compensations"] == [{"step": "reprofile[r2:activate[R1]]", "undoes": "activate[R1]",
                                          "by": "on_amend"}]
    assert files(env) == before


def test_on_amend_follows_a_completed_step_that_changed(env: dict[str, str], tmp_path: Path, started: Path) -> None:
    done = dro(env, "amend", "A-1", str(order_file(tmp_path, "r2.yaml", speed(500))), "--reason", "faster line")
    assert done.exit_code == 0, done.output
    assert "order A-1 amended to revision 2" in done.output
    assert (order_dir(env) / "plan.r2.json").is_file()
    now = states(env)
    assert now["activate[R1]"] == "completed"  # not run again: its on_amend follows it
    assert now["reprofile[r2:activate[R1]]"] == "in_progress"
    engine = read_order(order_dir(env)).engine
    context = StepContexts(engine).of("reprofile[r2:activate[R1]]", 1)
    assert context["undone"]["outputs"] == {"speed": "100"} and context["undone"]["state"] == "completed"
    assert context["revision"] == {"number": 2, "reason": "faster line"}
    assert context["item"]["attributes"]["speed"] == 500
    record = next(json.loads(line) for line in (order_dir(env) / "journal.jsonl").read_text().splitlines()
                  if '"plan.amended"' in line)
    assert record["payload"]["operator"] == "ann" and record["payload"]["reason"] == "faster line"
    assert record["payload"]["revision"] == 2


def test_a_step_not_started_is_discarded_and_planned_anew(env: dict[str, str], tmp_path: Path) -> None:
    assert dro(env, "run", str(order_file(tmp_path, "A-1.yaml")), "--catalog", str(CATALOG)).exit_code == 0
    assert dro(env, "complete", "A-1", "configure[M1]").exit_code == 0
    done = dro(env, "amend", "A-1", str(order_file(tmp_path, "r2.yaml", speed(500))))
    assert done.exit_code == 0, done.output
    assert "- discarded    activate[R1]  not started; item.attributes.speed changed from 100 to 500" in done.output
    assert "+ added        activate[R1]  the new instance of a discarded one" in done.output
    engine = read_order(order_dir(env)).engine
    assert engine.runs["ship[R1]"].state is StepState.IN_PROGRESS  # it reads no speed: kept, its run with it
    assert engine.key("activate[R1]", 1) == "A-1/r2/activate[R1]/1"  # never taken for the old instance's
    assert engine.key("ship[R1]", 1) == "A-1/ship[R1]/1"
    assert [(h.id, str(h.run.state), str(h.was)) for h in engine.history] == [("activate[R1]", "discarded", "pending")]


def test_a_started_step_that_changed_is_compensated_then_run_anew(env: dict[str, str], tmp_path: Path) -> None:
    assert dro(env, "run", str(order_file(tmp_path, "A-1.yaml")), "--catalog", str(CATALOG)).exit_code == 0
    assert dro(env, "complete", "A-1", "configure[M1]").exit_code == 0
    assert dro(env, "complete", "A-1", "ship[R1]", "--output", "parcel=P1").exit_code == 0
    model = order_file(tmp_path, "r2.yaml", lambda o: item(o, "R1")["attributes"].update(model="Y"))
    done = dro(env, "amend", "A-1", str(model))
    assert done.exit_code == 0, done.output
    assert "~ amended      ship[R1]" in done.output and "item.attributes.model changed from 'X' to 'Y'" in done.output
    engine = read_order(order_dir(env)).engine
    assert engine.steps["ship[R1]"]["after"] == ["restock[r2:ship[R1]]"]  # the new shipment after the return
    assert engine.runs["ship[R1]"].state is StepState.PENDING
    assert engine.runs["collect[r2:ship[R1]]"].state is StepState.IN_PROGRESS
    assert dro(env, "complete", "A-1", "collect[r2:ship[R1]]").exit_code == 0
    assert dro(env, "complete", "A-1", "restock[r2:ship[R1]]").exit_code == 0
    assert states(env)["ship[R1]"] == "in_progress"


def test_cancelled_lines_are_compensated_in_reverse_dependency_order(env: dict[str, str], tmp_path: Path,
                                                                     started: Path) -> None:
    done = dro(env, "cancel", "A-1", "--items", "T1", "--reason", "customer changed mind")
    assert done.exit_code == 0, done.output
    assert "- canceled     ship[T1]" in done.output and "- canceled     activate[T1]" in done.output
    engine = read_order(order_dir(env)).engine
    assert engine.steps["restock[r2:ship[T1]]"]["after"] == ["collect[r2:ship[T1]]"]
    assert engine.runs["collect[r2:ship[T1]]"].state is StepState.IN_PROGRESS
    context = StepContexts(engine).of("collect[r2:ship[T1]]", 1)
    assert context["undone"]["outputs"] == {"parcel": "P2"}
    assert context["item"]["id"] == "T1"  # the removed item, as it was
    assert context["revision"]["reason"] == "customer changed mind"
    assert "T1" not in engine.plan["context"]["items"]
    assert dro(env, "complete", "A-1", "collect[r2:ship[T1]]").exit_code == 0
    assert states(env)["restock[r2:ship[T1]]"] == "in_progress"


def test_compensation_of_a_step_waits_for_that_of_the_steps_after_it(env: dict[str, str], tmp_path: Path) -> None:
    """Both instances of an item removed: the later step's compensation runs first."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    text = (CATALOG / "catalog.dro").read_text()
    text = text.replace("    on_amend     reprofiling\n", "    compensate   reprofiling\n")
    (catalog / "catalog.dro").write_text(text)
    first = order_file(tmp_path, "A-1.yaml", without_mobile)
    assert dro(env, "run", str(first), "--catalog", str(catalog)).exit_code == 0
    assert dro(env, "complete", "A-1", "ship[R1]", "--output", "parcel=P1").exit_code == 0
    assert dro(env, "complete", "A-1", "activate[R1]").exit_code == 0
    assert dro(env, "cancel", "A-1", "--items", "R1", "--reason", "r").exit_code == 0
    steps = read_order(order_dir(env)).engine.steps
    assert steps["reprofile[r2:activate[R1]]"]["after"] == []
    assert steps["collect[r2:ship[R1]]"]["after"] == ["reprofile[r2:activate[R1]]"]


def test_a_change_past_the_point_of_no_return_is_refused_and_writes_nothing(env: dict[str, str], tmp_path: Path,
                                                                            started: Path) -> None:
    before = files(env)
    revised = order_file(tmp_path, "r2.yaml", lambda o: item(o, "M1")["attributes"].update(msisdn="456"))
    refused = dro(env, "amend", "A-1", str(revised))
    assert refused.exit_code == 2, refused.output
    assert "error[DRO532]: port[M1] cannot change: port[M1] passed its point of no return at" in refused.output
    assert f"{revised}:" in refused.output  # located at the order line it touches
    assert "item.attributes.msisdn changed from '123' to '456'" in refused.output
    assert files(env) == before
    cancel = dro(env, "cancel", "A-1", "--items", "M1", "--reason", "r")
    assert cancel.exit_code == 2 and "DRO532" in cancel.output
    whole = dro(env, "cancel", "A-1", "--reason", "r")
    assert whole.exit_code == 2 and "DRO532" in whole.output
    assert files(env) == before
    other = dro(env, "amend", "A-1", str(order_file(tmp_path, "r3.yaml", speed(500))))
    assert other.exit_code == 0, other.output  # what the point does not cover can still change


def test_an_amendment_waits_while_a_freeze_plan_step_is_in_progress(env: dict[str, str], tmp_path: Path) -> None:
    assert dro(env, "run", str(order_file(tmp_path, "A-1.yaml")), "--catalog", str(CATALOG)).exit_code == 0
    before = files(env)
    frozen = dro(env, "amend", "A-1", str(order_file(tmp_path, "r2.yaml", speed(500))))
    assert frozen.exit_code == 4, frozen.output
    assert "error[DRO534]: order A-1 is frozen while configure[M1] is in progress" in frozen.output
    waited = dro(env, "amend", "A-1", str(tmp_path / "r2.yaml"), "--wait", "0.2")
    assert waited.exit_code == 4 and "after waiting 0.2s" in waited.output
    assert files(env) == before
    assert dro(env, "complete", "A-1", "configure[M1]").exit_code == 0
    assert dro(env, "amend", "A-1", str(tmp_path / "r2.yaml")).exit_code == 0


def without_mobile(order: dict[str, Any]) -> None:
    order["items"] = [i for i in order["items"] if i["id"] != "M1"]


def test_a_whole_order_cancel_compensates_then_ends_canceled(env: dict[str, str], tmp_path: Path) -> None:
    assert dro(env, "run", str(order_file(tmp_path, "A-1.yaml", without_mobile)), "--catalog",
               str(CATALOG)).exit_code == 0
    for step in ("ship[R1]", "ship[T1]"):
        assert dro(env, "complete", "A-1", step).exit_code == 0
    done = dro(env, "cancel", "A-1", "--reason", "moved abroad")
    assert done.exit_code == 0, done.output
    engine = read_order(order_dir(env)).engine
    assert str(engine.state) == "in_progress" and engine.canceling is not None
    live = sorted(engine.steps)
    assert live == ["collect[r2:ship[R1]]", "collect[r2:ship[T1]]", "restock[r2:ship[R1]]", "restock[r2:ship[T1]]"]
    for sid in ("collect[r2:ship[R1]]", "collect[r2:ship[T1]]", "restock[r2:ship[R1]]", "restock[r2:ship[T1]]"):
        assert dro(env, "complete", "A-1", sid).exit_code == 0, sid
    assert str(read_order(order_dir(env)).engine.state) == "canceled"
    status = json.loads(dro(env, "status", "A-1", "--format", "json").output)
    validator("status").validate(status)
    assert status["state"] == "canceled" and status["canceled"]["reason"] == "moved abroad"
    assert dro(env, "view", "A-1", "-o", str(tmp_path / "a.html")).exit_code == 0
    again = dro(env, "amend", "A-1", str(order_file(tmp_path, "r3.yaml", without_mobile)))
    assert again.exit_code == 2 and "error[DRO533]: order A-1 is canceled" in again.output


def test_a_whole_order_cancel_with_nothing_to_compensate_cancels_at_once(env: dict[str, str], tmp_path: Path) -> None:
    assert dro(env, "run", str(order_file(tmp_path, "A-1.yaml", without_mobile)), "--catalog",
               str(CATALOG)).exit_code == 0
    done = dro(env, "cancel", "A-1", "--reason", "duplicate")
    assert done.exit_code == 0, done.output
    engine = read_order(order_dir(env)).engine
    assert str(engine.state) == "canceled" and engine.canceled is not None and engine.revision == 1


def test_bad_amendments_are_located_and_write_nothing(env: dict[str, str], tmp_path: Path, started: Path) -> None:
    before = files(env)
    other = order_file(tmp_path, "other.yaml", lambda o: o.update(id="A-2"))
    refused = dro(env, "amend", "A-1", str(other))
    assert refused.exit_code == 2 and "error[DRO530]: the revised order is order A-2, not A-1" in refused.output
    assert f"{other}:" in refused.output
    product = order_file(tmp_path, "product.yaml", lambda o: item(o, "T1").update(product="MOB"))
    refused = dro(env, "amend", "A-1", str(product))
    assert refused.exit_code == 2 and "error[DRO531]: order line T1 was DEV" in refused.output
    missing = dro(env, "amend", "A-9", str(order_file(tmp_path, "A-9.yaml")))
    assert missing.exit_code == 2 and "no order 'A-9'" in missing.output
    unknown = dro(env, "cancel", "A-1", "--items", "T2", "--reason", "r")
    assert unknown.exit_code == 2 and "order A-1 has no line 'T2'" in unknown.output
    no_file = dro(env, "amend", "A-1", str(tmp_path / "nope.yaml"))
    assert no_file.exit_code == 2 and "Traceback" not in no_file.output
    assert files(env) == before
    with OpenOrder(order_dir(env)):  # a second writer holds the order
        held = dro(env, "amend", "A-1", str(order_file(tmp_path, "r2.yaml", speed(500))))
    assert held.exit_code == 2 and "Traceback" not in held.output
    assert files(env) == before


def test_nothing_to_change_writes_nothing(env: dict[str, str], tmp_path: Path, started: Path) -> None:
    before = files(env)
    same = dro(env, "amend", "A-1", str(started))
    assert same.exit_code == 0 and "nothing changes" in same.output
    assert files(env) == before


def test_a_revision_plan_changed_on_disk_is_refused(env: dict[str, str], tmp_path: Path, started: Path) -> None:
    assert dro(env, "amend", "A-1", str(order_file(tmp_path, "r2.yaml", speed(500)))).exit_code == 0
    path = order_dir(env) / "plan.r2.json"
    path.write_text(path.read_text().replace('"ops"', '"elsewhere"'))
    refused = dro(env, "status", "A-1")
    assert refused.exit_code == 1 and "DRO516" in refused.output and "plan.r2.json" in refused.output


def test_a_fold_of_the_journal_gives_what_the_writer_had(env: dict[str, str], tmp_path: Path, started: Path) -> None:
    assert dro(env, "amend", "A-1", str(order_file(tmp_path, "r2.yaml", speed(500)))).exit_code == 0
    assert dro(env, "cancel", "A-1", "--items", "T1", "--reason", "r").exit_code == 0
    with OpenOrder(order_dir(env)) as order:
        writer = order.load_plan()
        written = {sid: (run.state, run.attempts) for sid, run in writer.runs.items()}
    folded = read_order(order_dir(env)).engine
    assert {sid: (run.state, run.attempts) for sid, run in folded.runs.items()} == written
    assert folded.revision == 3 and [a["revision"] for a in folded.amendments] == [2, 3]
    assert dro(env, "verify", "A-1").exit_code == 0
    validator("plan").validate(folded.plan)  # revision 3's plan, as read back from the deltas of 2 and 3
    for revision in ("plan.r2.json", "plan.r3.json"):
        written_delta = json.loads((order_dir(env) / revision).read_text())
        assert written_delta["kind"] == "dro/plan-delta" and len(written_delta["steps"]) < len(folded.plan["steps"])


def test_a_compensation_still_running_outlives_the_next_amendment(env: dict[str, str], tmp_path: Path,
                                                                  started: Path) -> None:
    assert dro(env, "amend", "A-1", str(order_file(tmp_path, "r2.yaml", speed(500)))).exit_code == 0
    # revision 3 cancels R1, whose activate[R1] the running reprofile follows
    done = dro(env, "cancel", "A-1", "--items", "R1", "--reason", "r")
    assert done.exit_code == 0, done.output
    engine = read_order(order_dir(env)).engine
    assert engine.revision == 3
    assert engine.steps["reprofile[r2:activate[R1]]"]["after"] == []
    assert engine.runs["reprofile[r2:activate[R1]]"].state is StepState.IN_PROGRESS
    assert "activate[R1]" not in engine.steps and "collect[r3:ship[R1]]" in engine.steps


def test_the_file_of_the_current_revision_continues_the_order(env: dict[str, str], tmp_path: Path,
                                                              started: Path) -> None:
    revised = order_file(tmp_path, "r2.yaml", speed(500))
    assert dro(env, "amend", "A-1", str(revised)).exit_code == 0
    assert dro(env, "run", str(revised)).exit_code == 0
    old = dro(env, "run", str(started))
    assert old.exit_code == 2 and "amended to revision 2" in old.output


@pytest.mark.parametrize("change", ["speed", "model"])
def test_the_same_revision_given_again_changes_nothing(env: dict[str, str], tmp_path: Path, started: Path,
                                                       change: str) -> None:
    """What revision 2 made wait for a compensation (the new instance, what follows an on_amend) is no
    dependency its order plans: given again, the revision amends nothing a second time (no revision 3, no
    second compensation of the same step)."""
    revised = order_file(tmp_path, "r2.yaml", speed(500) if change == "speed" else
                         lambda o: item(o, "R1")["attributes"].update(model="Y"))
    assert dro(env, "amend", "A-1", str(revised)).exit_code == 0
    before = files(env)
    again = dro(env, "amend", "A-1", str(revised))
    assert again.exit_code == 0 and "nothing changes" in again.output, again.output
    assert files(env) == before and read_order(order_dir(env)).engine.revision == 2


def test_a_newer_catalog_given_with_catalog_changes_the_definitions_it_changes(env: dict[str, str],
                                                                                tmp_path: Path) -> None:
    assert dro(env, "run", str(order_file(tmp_path, "A-1.yaml", without_mobile)), "--catalog",
               str(CATALOG)).exit_code == 0
    newer = tmp_path / "newer"
    newer.mkdir()
    activation = "    queue        ops\n    instructions \"Activate"
    (newer / "catalog.dro").write_text((CATALOG / "catalog.dro").read_text().replace(
        activation, activation.replace("ops", "activation")))
    shown = dro(env, "plan", "--amend", "A-1", str(tmp_path / "A-1.yaml"), "--catalog", str(newer))
    assert shown.exit_code == 0, shown.output
    assert "planned with the catalog" in shown.output
    assert "- discarded    activate[R1]  not started; its definition changed (queue)" in shown.output
    assert dro(env, "amend", "A-1", str(tmp_path / "A-1.yaml"), "--catalog", str(newer)).exit_code == 0
    plan = read_order(order_dir(env)).plan
    assert plan["mixed_templates"] is True  # the kept ships were planned with the first catalog
    again = dro(env, "amend", "A-1", str(tmp_path / "A-1.yaml"), "--catalog", str(newer))
    assert again.exit_code == 0 and "nothing changes" in again.output, again.output


def test_amend_and_cancel_print_their_reconciliation_as_json(env: dict[str, str], tmp_path: Path,
                                                             started: Path) -> None:
    done = dro(env, "amend", "A-1", str(order_file(tmp_path, "r2.yaml", speed(500))), "--format", "json")
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    validator("amendment").validate(document)
    assert document["applied"] is True and document["plan_file"] == "plan.r2.json"
    assert document["result"]["status"]["state"] == "in_progress"
    canceled = json.loads(dro(env, "cancel", "A-1", "--items", "T1", "--reason", "r", "--format", "json").stdout)
    validator("amendment").validate(canceled)
    assert canceled["revision"] == 3 and {c["fate"] for c in canceled["changes"]} == {"canceled"}
