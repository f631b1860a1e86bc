"""What `dro status`, `dro log`, `dro view` (html, mermaid, dot) and `dro serve` show of an amended order
(tests/data/amend/catalog.dro, through the CLI as tests/test_amend.py does): its revision, who amended it and
why, the compensations with what they undo, and the instances amendments superseded, apart from the live plan.
The page in a real browser is tests/test_amend_views_browser.py."""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from test_amend import CATALOG, dro, order_file, speed

from dro_cli.output.serve import make_server
from dsl.schemas import validator


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"NO_COLOR": "1", "DRO_STATE_DIR": str(tmp_path / "state"), "DRO_NOW": "2026-12-01T10:00:00Z",
            "DRO_OPERATOR": "ann", "DRO_CATALOG": ""}


def amended_order(env: dict[str, str], tmp_path: Path) -> None:
    """A-1 at revision 3: activate[R1] done and amended (its on_amend reprofile runs), then line T1 canceled
    (ship[T1] done: its return runs; activate[T1] in progress: canceled)."""
    assert dro(env, "run", str(order_file(tmp_path, "A-1.yaml")), "--catalog", str(CATALOG)).exit_code == 0
    for step, outputs in (("ship[R1]", ["parcel=P1"]), ("activate[R1]", ["speed=100"]), ("ship[T1]", ["parcel=P2"]),
                          ("configure[M1]", [])):
        args = [arg for output in outputs for arg in ("--output", output)]
        assert dro(env, "complete", "A-1", step, *args).exit_code == 0, step
    revised = order_file(tmp_path, "r2.yaml", speed(500))
    assert dro(env, "amend", "A-1", str(revised), "--reason", "faster line").exit_code == 0
    assert dro(env, "cancel", "A-1", "--items", "T1", "--reason", "customer changed mind").exit_code == 0


@pytest.fixture
def amended(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    amended_order(env, tmp_path)
    return env


@pytest.fixture
def discarded(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A-1 at revision 2: activate[R1], not started, discarded and planned anew under the same id."""
    assert dro(env, "run", str(order_file(tmp_path, "A-1.yaml")), "--catalog", str(CATALOG)).exit_code == 0
    assert dro(env, "complete", "A-1", "configure[M1]").exit_code == 0
    assert dro(env, "amend", "A-1", str(order_file(tmp_path, "r2.yaml", speed(500)))).exit_code == 0
    return env


def shown(env: dict[str, str], *args: str) -> str:
    result = dro(env, *args)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_status_document_has_the_revision_amendments_compensations_and_superseded(amended: dict[str, str],
                                                                                       ) -> None:
    document = json.loads(shown(amended, "status", "A-1", "--format", "json"))
    assert [f"{list(e.absolute_path)}: {e.message}" for e in validator("status").iter_errors(document)] == []
    assert document["revision"] == 3
    assert [(a["revision"], a["operator"], a["reason"], a["counts"], a["canceled_items"])
            for a in document["amendments"]] == [
        (2, "ann", "faster line", {"amended": 1, "kept": 5}, None),
        (3, "ann", "customer changed mind", {"canceled": 2, "kept": 5}, ["T1"])]
    steps = {step["id"]: step for step in document["steps"]}
    assert (steps["reprofile[r2:activate[R1]]"]["undoes"], steps["reprofile[r2:activate[R1]]"]["compensates"],
            steps["reprofile[r2:activate[R1]]"]["revision"]) == ("activate[R1]", "on_amend", 2)
    assert (steps["collect[r3:ship[T1]]"]["undoes"], steps["collect[r3:ship[T1]]"]["compensates"],
            steps["collect[r3:ship[T1]]"]["revision"]) == ("ship[T1]", "compensate", 3)
    assert (steps["ship[R1]"]["undoes"], steps["ship[R1]"]["compensates"], steps["ship[R1]"]["revision"]) \
        == (None, None, 1)
    assert "ship[T1]" not in steps and "activate[T1]" not in steps  # not mixed with the live plan
    assert [(s["id"], s["state"], s["was"], s["revision"], s["superseded_by"]) for s in document["superseded"]] == [
        ("activate[T1]", "canceled", "in_progress", 1, 3), ("ship[T1]", "canceled", "completed", 1, 3)]
    ship = document["superseded"][1]
    assert ship["outputs"] == {"parcel": "P2"} and "item T1 is no longer in the order" in ship["reason"]


def test_a_discarded_instance_is_superseded_and_its_new_instance_is_live(discarded: dict[str, str]) -> None:
    document = json.loads(shown(discarded, "status", "A-1", "--format", "json"))
    assert validator("status").is_valid(document)
    assert [(s["id"], s["state"], s["was"], s["superseded_by"]) for s in document["superseded"]] == [
        ("activate[R1]", "discarded", "pending", 2)]
    live = {step["id"]: step for step in document["steps"]}
    assert live["activate[R1]"]["revision"] == 2 and live["activate[R1]"]["undoes"] is None
    text = shown(discarded, "status", "A-1")
    assert re.search(r"  activate\[R1\] +pending .*new in revision 2\n", text), text
    assert re.search(r"Superseded by revision 2\n  activate\[R1\]  discarded  was pending +not started; "
                     r"item.attributes.speed changed from 100 to 500", text), text
    dot = shown(discarded, "view", "A-1", "--format", "dot")
    assert '"activate[R1]" [label="activate[R1]\\nmanual · pending"' in dot
    assert '"superseded r2: activate[R1]" [label="activate[R1]\\ndiscarded, was pending", fillcolor="#f5f5f4"' in dot


def test_the_status_text_shows_the_revision_who_amended_and_why(amended: dict[str, str]) -> None:
    text = shown(amended, "status", "A-1")
    head, rest = text.split("\n\nLogistics", 1)
    assert head.splitlines() == [
        "A-1  in_progress  3/7 steps  revision 3  expected 2026-12-01T10:00:00Z",
        "2026-12-01T10:00:00Z  ann amended the order, revision 2: 1 amended, 5 kept (reason: faster line)",
        "2026-12-01T10:00:00Z  ann canceled lines T1, revision 3: 2 canceled, 5 kept (reason: customer changed mind)"]
    lanes, superseded = rest.split("\n\nSuperseded by revision 3\n", 1)
    lanes += "\n"
    assert re.search(r"  reprofile\[r2:activate\[R1\]\] +in_progress .* undoes activate\[R1\] \(on_amend\)\n", lanes)
    assert re.search(r"  restock\[r3:ship\[T1\]\] +pending .* undoes ship\[T1\] \(compensate\)\n", lanes)
    assert "ship[T1]" not in lanes.replace("undoes ship[T1]", "").replace("[r3:ship[T1]]", "")
    assert superseded.splitlines()[:2] == [
        "  activate[T1]  canceled   was in_progress     item T1 is no longer in the order; it has no compensation",
        "  ship[T1]      canceled   was completed       item T1 is no longer in the order: its compensation runs "
        "(collect[r3:ship[T1]], restock[r3:ship[T1]])"]


def test_the_list_of_orders_shows_revisions_once_one_is_amended(amended: dict[str, str], tmp_path: Path) -> None:
    other = order_file(tmp_path, "A-2.yaml", lambda o: o.update(id="A-2"))
    assert dro(amended, "run", str(other), "--catalog", str(CATALOG)).exit_code == 0
    for _ in range(2):  # made from the journals, then read from the digests they left
        lines = shown(amended, "status").splitlines()
        assert lines[0] == "ORDER  STATE        STEPS  REV  WAITING ON"
        assert lines[1].startswith("A-1    in_progress    3/7    3  operator: port[M1]")
        assert lines[2].startswith("A-2    in_progress    0/6    1  operator: configure[M1]")
        orders = json.loads(shown(amended, "status", "--format", "json"))
        assert validator("status").is_valid(orders)
        assert [(o["order"], o["revision"]) for o in orders["orders"]] == [("A-1", 3), ("A-2", 1)]
    digest = json.loads((Path(amended["DRO_STATE_DIR"]) / "orders" / "A-1" / "digest.json").read_text())
    assert digest["summary"]["revision"] == 3


def test_the_list_has_no_revision_column_while_no_order_is_amended(env: dict[str, str], tmp_path: Path) -> None:
    assert dro(env, "run", str(order_file(tmp_path, "A-1.yaml")), "--catalog", str(CATALOG)).exit_code == 0
    assert shown(env, "status").splitlines()[0] == "ORDER  STATE        STEPS  WAITING ON"
    assert "revision" not in shown(env, "status", "A-1")


def test_the_log_says_who_amended_to_which_revision_and_why(amended: dict[str, str]) -> None:
    log = shown(amended, "log", "A-1")
    assert "  operator ann amended the order, revision 2: 1 amended, 5 kept (reason: faster line)\n" \
           "      amended activate[R1]: completed; item.attributes.speed changed from 100 to 500: its on_amend steps " \
           "run (reprofile[r2:activate[R1]]), and it is not run again\n" in log
    assert "  operator ann canceled lines T1, revision 3: 2 canceled, 5 kept (reason: customer changed mind)\n" \
           "      canceled ship[T1]: completed; item T1 is no longer in the order: its compensation runs" in log


def test_a_whole_order_cancel_that_compensates_says_so(env: dict[str, str], tmp_path: Path) -> None:
    def without_mobile(order: dict[str, Any]) -> None:
        order["items"] = [i for i in order["items"] if i["id"] != "M1"]

    assert dro(env, "run", str(order_file(tmp_path, "A-1.yaml", without_mobile)), "--catalog",
               str(CATALOG)).exit_code == 0
    assert dro(env, "complete", "A-1", "ship[R1]").exit_code == 0
    assert dro(env, "cancel", "A-1", "--reason", "moved abroad").exit_code == 0
    expected = "ann canceled the order (compensating first), revision 2: 1 discarded, 3 canceled (reason: moved abroad)"
    assert expected in shown(env, "status", "A-1")
    assert f"operator {expected}" in shown(env, "log", "A-1")


def test_mermaid_titles_the_revision_dashes_compensations_and_lists_the_superseded(amended: dict[str, str]) -> None:
    chart = shown(amended, "view", "A-1", "--format", "mermaid")
    assert chart.startswith('---\ntitle: "order A-1, revision 3"\n---\nflowchart LR\n')
    nodes = dict(re.findall(r'^    (\w+)\["([^"]*)"\]$', chart, re.M))
    by_label = {label.split("<br/>")[0]: name for name, label in nodes.items()}
    assert nodes[by_label["collect[r3:ship[T1]]"]] \
        == "collect[r3:ship[T1]]<br/>manual · in_progress<br/>undoes ship[T1]"
    compensations = {by_label[s] for s in ("reprofile[r2:activate[R1]]", "collect[r3:ship[T1]]",
                                           "restock[r3:ship[T1]]")}
    (members,) = re.findall(r"^  class (\S+) compensation$", chart, re.M)
    assert set(members.split(",")) == compensations
    assert f"  {by_label['activate[R1]']} -.->|undoes| {by_label['reprofile[r2:activate[R1]]']}\n" in chart
    superseded = chart.split('  subgraph superseded3["Superseded by revision 3"]\n', 1)[1].split("  end\n", 1)[0]
    assert [label for _, label in re.findall(r'^    (\w+)\["([^"]*)"\]$', superseded, re.M)] == [
        "activate[T1]<br/>canceled, was in_progress", "ship[T1]<br/>canceled, was completed"]
    (canceled,) = re.findall(r"^  class (\S+) state_canceled$", chart, re.M)
    assert canceled == ",".join(re.findall(r"^    (\w+)\[", superseded, re.M))
    plain = shown(amended, "plan", str(order_file(Path(amended["DRO_STATE_DIR"]).parent, "p.yaml")),
                  "--catalog", str(CATALOG), "--format", "mermaid")
    assert plain.startswith("flowchart LR\n") and "compensation" not in plain and "Superseded" not in plain


def test_dot_labels_the_revision_dashes_compensations_and_clusters_the_superseded(amended: dict[str, str]) -> None:
    dot = shown(amended, "view", "A-1", "--format", "dot")
    assert '  label="order A-1, revision 3"; labelloc=t;\n' in dot
    assert re.search(r'    "restock\[r3:ship\[T1\]\]" \[label="restock\[r3:ship\[T1\]\]\\nmanual · pending\\nundoes '
                     r'ship\[T1\]", [^\n]*style="rounded,filled,dashed"', dot)
    assert not re.search(r'    "ship\[R1\]" [^\n]*dashed', dot)
    assert '  "activate[R1]" -> "reprofile[r2:activate[R1]]" [style=dashed, color="#7e22ce", label="undoes"];\n' in dot
    cluster = dot.split('  subgraph "cluster_superseded_3" {\n', 1)[1].split("\n  }\n", 1)[0]
    assert '    label="Superseded by revision 3";' in cluster
    assert '"superseded r3: ship[T1]" [label="ship[T1]\\ncanceled, was completed", fillcolor="#d6d3d1"' in cluster
    assert dot.count('"ship[T1]"') == 0  # only the superseded node, under its own id


def test_the_html_page_draws_the_live_revision_and_lists_the_superseded(amended: dict[str, str],
                                                                         tmp_path: Path) -> None:
    page = shown(amended, "view", "A-1")
    assert '<span id="revision" data-revision="3">revision 3</span>' in page
    assert re.search(r'<li class="amendment" data-revision="3">2026-12-01T10:00:00Z: ann canceled lines T1, '
                     r'revision 3: 2 canceled, 5 kept \(reason: customer changed mind\)</li>', page)
    drawn = re.findall(r'<g class="(step[^"]*)" data-step-id="([^"]*)"', page)
    assert ("step compensation", "collect[r3:ship[T1]]") in drawn and ("step", "ship[R1]") in drawn
    assert {sid for _, sid in drawn}.isdisjoint({"ship[T1]", "activate[T1]"})  # only the live revision drawn
    assert '<text class="step-undoes" x="8" y="67">↶ undoes ship[T1]</text>' in page
    assert '<path class="undo-edge" data-from="activate[R1]" data-to="reprofile[r2:activate[R1]]"' in page
    superseded = page.split('<div id="superseded">', 1)[1].split("</div>", 1)[0]
    assert "<h2>Superseded by revision 3</h2>" in superseded
    assert re.findall(r'data-step-id="([^"]*)" data-state="([^"]*)"', superseded) == [
        ("activate[T1]", "canceled"), ("ship[T1]", "canceled")]
    assert re.search(r'<li class="legend-item" data-state="canceled">.*<span class="count">2</span>', page)


def test_dro_serve_shows_an_amended_order_as_dro_view_does(amended: dict[str, str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRO_NOW", amended["DRO_NOW"])
    server = make_server(Path(amended["DRO_STATE_DIR"]), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        with urllib.request.urlopen(f"{base}/orders/A-1") as response:
            page = response.read().decode()
        with urllib.request.urlopen(f"{base}/api/orders") as response:
            rows = json.loads(response.read())["orders"]
    finally:
        server.shutdown()
        server.server_close()
    assert '<span id="revision" data-revision="3">revision 3</span>' in page
    assert 'class="step compensation" data-step-id="reprofile[r2:activate[R1]]"' in page
    assert 'class="superseded-step" data-step-id="ship[T1]"' in page
    assert [(row["order"], row["revision"]) for row in rows] == [("A-1", 3)]



def test_a_compensation_of_an_instance_planned_anew_has_no_arrow_from_the_new_one(env: dict[str, str],
                                                                                  tmp_path: Path) -> None:
    """ship[R1] shipped, then its model changed: the return undoes the old instance (superseded), not the new
    ship[R1] of revision 2, which waits for the return."""
    assert dro(env, "run", str(order_file(tmp_path, "A-1.yaml")), "--catalog", str(CATALOG)).exit_code == 0
    assert dro(env, "complete", "A-1", "configure[M1]").exit_code == 0
    assert dro(env, "complete", "A-1", "ship[R1]", "--output", "parcel=P1").exit_code == 0
    model = order_file(tmp_path, "r2.yaml", lambda o: next(i for i in o["items"] if i["id"] == "R1")[
        "attributes"].update(model="Y"))
    assert dro(env, "amend", "A-1", str(model)).exit_code == 0
    document = json.loads(shown(env, "status", "A-1", "--format", "json"))
    assert [(s["id"], s["state"], s["was"]) for s in document["superseded"]] == [("ship[R1]", "amended", "completed")]
    page = shown(env, "view", "A-1")
    assert 'class="step compensation" data-step-id="collect[r2:ship[R1]]" data-undoes="ship[R1]"' in page
    assert 'class="undo-edge"' not in page
    assert 'label="undoes"' not in shown(env, "view", "A-1", "--format", "dot")
    assert "-.->|undoes|" not in shown(env, "view", "A-1", "--format", "mermaid")
