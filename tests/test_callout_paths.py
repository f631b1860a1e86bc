"""An order's values in a callout's path, against real HTTP servers on 127.0.0.1: each value is
percent-encoded as one segment or query value, `| raw_path` lets a piece of path in as it is, and a
rendered path that could leave the endpoint's base path is refused before a byte is sent."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_handlers_callout import Server, _serve, callout, endpoint
from test_retry_runs import NOW, ORDER, dro, steps

from dro_cli.runtime.handlers import Outcome


@pytest.fixture
def server() -> Iterator[Server]:
    yield from _serve(Server())


def sent(server: Server, path: str, *, item_id: str = "L1/HW", attributes: dict[str, Any] | None = None,
         outputs: dict[str, Any] | None = None, prefix: str = "/wms") -> Outcome:
    """The callout of `path` for an item with `item_id` and `attributes`, to `server` + `prefix`."""
    return callout({"method": "POST", "path": path}, {"wms": endpoint(server.base + prefix)},
                   item={"id": item_id, "product": "LAPTOP-HW", "quantity": 1, "attributes": attributes or {}},
                   outputs=outputs)


@pytest.mark.parametrize(("path", "item_id", "attributes", "expected"), [
    pytest.param("/items/{{ item.id }}", "a/b", {}, "/wms/items/a%2Fb", id="slash-in-a-segment"),
    pytest.param("/stock?sku={{ item.attributes.sku }}", "I1", {"sku": "X&all=1"}, "/wms/stock?sku=X%26all%3D1",
                 id="query-value"),
    pytest.param("/items/{{ item.id }}/{{ item.attributes.note }}", "I1", {"note": "../../admin/delete?all=true#"},
                 "/wms/items/I1/..%2F..%2Fadmin%2Fdelete%3Fall%3Dtrue%23", id="the-reported-attack-is-one-segment"),
    pytest.param("/items/{{ item.id }}", "%2e%2e", {}, "/wms/items/%252e%252e", id="percent-is-encoded-too"),
    pytest.param("/items/{{ item.id }}", "Größe 1", {}, "/wms/items/Gr%C3%B6%C3%9Fe%201", id="non-ascii-and-space"),
])
def test_values_are_percent_encoded_as_one_segment(server: Server, path: str, item_id: str,
                                                   attributes: dict[str, Any], expected: str) -> None:
    assert sent(server, path, item_id=item_id, attributes=attributes) == Outcome({})
    (seen,) = server.seen
    assert seen.path == expected


@pytest.mark.parametrize(("path", "item_id", "attributes"), [
    pytest.param("/items/{{ item.id }}/{{ item.attributes.note }}", "..", {"note": "../../admin/delete?all=true#"},
                 id="the-reported-attack"),
    pytest.param("/items/{{ item.id }}", ".", {}, id="dot-segment"),
    pytest.param("/{{ item.id }}/x", "..", {}, id="first-segment"),
    pytest.param("/items/{{ item.attributes.next | raw_path }}", "I1", {"next": "../admin"}, id="raw-dot-dot"),
    pytest.param("/items/{{ item.attributes.next | raw_path }}", "I1", {"next": "%2E%2e/admin"},
                 id="raw-encoded-dot-dot"),
    pytest.param("/items/{{ item.attributes.next | raw_path }}", "I1", {"next": "a#frag"}, id="raw-fragment"),
    pytest.param("/items/{{ item.attributes.next | raw_path }}", "I1", {"next": "a\\..\\b"}, id="raw-backslash"),
    pytest.param("{{ item.attributes.next | raw_path }}", "I1", {"next": "//evil.example/x"}, id="raw-authority"),
    pytest.param("{{ item.attributes.next | raw_path }}", "I1", {"next": "x/y"}, id="raw-not-starting-with-slash"),
])
def test_a_rendered_path_that_could_leave_the_base_is_refused_before_sending(
        server: Server, path: str, item_id: str, attributes: dict[str, Any]) -> None:
    outcome = sent(server, path, item_id=item_id, attributes=attributes)
    assert (outcome.error, outcome.retryable) == ("template_error", False)
    assert "is refused" in outcome.message
    assert server.seen == []


def test_raw_path_lets_a_piece_of_path_in_as_it_is(server: Server) -> None:
    outcome = sent(server, "{{ outputs.page.next | raw_path }}", outputs={"page": {"next": "/items?page=2&size=50"}})
    assert outcome == Outcome({})
    assert [seen.path for seen in server.seen] == ["/wms/items?page=2&size=50"]


def test_headers_and_body_are_not_encoded(server: Server) -> None:
    outcome = callout({"method": "POST", "path": "/items", "headers": {"X-Item": "{{ item.id }}"},
                       "body": {"id": "{{ item.id }}"}}, {"wms": endpoint(server.base)})
    assert outcome == Outcome({})
    (seen,) = server.seen
    assert (seen.headers["X-Item"], json.loads(seen.body)) == ("L1/HW", {"id": "L1/HW"})


@pytest.fixture
def env(tmp_path: Path, server: Server) -> dict[str, str]:
    base = {key: value for key, value in os.environ.items() if not key.startswith("DRO_")}
    return {**base, "NO_COLOR": "1", "DRO_STATE_DIR": str(tmp_path / "state"), "API_URL": server.base}


CATALOG = """\
lane ops "Ops"
endpoint api "API" { url env("API_URL") }
group g {
  step reserve "Reserve" {
    type callout  scope line_item  lane ops  endpoint api  method POST
    path "/items/{{ item.id }}/{{ item.attributes.note }}"
  }
}
scenario s { when item.product == "P" add g }
"""


def test_dro_run_sends_nothing_for_the_reported_order_and_says_why(
        env: dict[str, str], tmp_path: Path, server: Server) -> None:
    """The report's order, end to end: item `..` and an attribute that climbs to /admin/delete."""
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "c.dro").write_text(CATALOG, encoding="utf-8")
    order = tmp_path / "order.json"
    order.write_text(json.dumps({"order": {"id": ORDER, "account": "A", "items": [
        {"id": "..", "product": "P", "attributes": {"note": "../../admin/delete?all=true#"}},
        {"id": "I2", "product": "P", "attributes": {"note": "a/b"}}]}}), encoding="utf-8")
    done = dro(env, NOW, "run", str(order), "--catalog", str(catalog))
    assert done.returncode == 1, done.stdout + done.stderr
    assert [seen.path for seen in server.seen] == ["/items/I2/a%2Fb"]
    by_id = steps(env)
    assert by_id["reserve[I2]"]["state"] == "completed"
    failed = by_id["reserve[..]"]
    assert (failed["state"], failed["error"]["code"], failed["attempts"]) == ("fatally_failed", "template_error", 1)
    assert "'/items/../..%2F..%2Fadmin%2Fdelete%3Fall%3Dtrue%23' is refused" in failed["error"]["message"]


def test_dro_validate_reports_a_written_path_that_climbs_out(tmp_path: Path, env: dict[str, str]) -> None:
    catalog = tmp_path / "c.dro"
    catalog.write_text(CATALOG.replace("/items/{{", "/items/../{{"), encoding="utf-8")
    done = dro(env, NOW, "validate", str(catalog))
    assert done.returncode == 1
    assert "error[DRO213]: callout path could leave its endpoint" in done.stdout + done.stderr
    catalog.write_text(CATALOG.replace("{{ item.attributes.note }}", "{{ item.attributes.note | raw_path }}"),
                       encoding="utf-8")
    assert dro(env, NOW, "validate", str(catalog)).returncode == 0
