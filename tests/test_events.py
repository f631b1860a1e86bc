"""`dro events`: TMF622 events out to a REAL listener (http.server on 127.0.0.1), validated against the
TMF622 v5 specification's own schemas; at least once, in order, dead letters and resend, secrets kept out."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import tmf622_spec
from click.testing import Result
from test_run_cli import LAPTOP, NOW, ORDER, dro, simulator  # noqa: F401 - simulator: a fixture
from test_run_cli import TOKEN as SIMULATOR_TOKEN

TOKEN_ENV, TOKEN = "CRM_TOKEN", "s3cret-listener-token-0123"


class Receiver:
    """A listener on 127.0.0.1 that keeps what it is sent; `up = False` answers 503 to everything."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.up = True
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not outer.up:
                    self.send_response(503)
                    self.end_headers()
                    return
                outer.received.append(json.loads(body))
                outer.headers.append(dict(self.headers))
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/listener"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def ids(self) -> list[str]:
        return [event["id"] for event in self.received]


@pytest.fixture
def env(tmp_path: Path, simulator: Any) -> dict[str, str]:  # noqa: F811 - the fixture, by name
    return {"NO_COLOR": "1", "DRO_STATE_DIR": str(tmp_path / "state"), "DRO_NOW": NOW, "DRO_OPERATOR": "ann",
            "WMS_URL": simulator.url, "LICENSE_SERVER_URL": simulator.url, "LICENSE_SERVER_TOKEN": SIMULATOR_TOKEN,
            "DRO_CATALOG": ""}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()
    running.server.server_close()


@pytest.fixture(scope="module")
def spec_validator() -> Any:
    """An event's errors against its type's schema in the TMF622 v5 specification, discriminators as OpenAPI
    reads them (tests/tmf622_spec.py)."""
    return lambda event: tmf622_spec.errors(event["@type"], event)


def test_the_spec_validator_rejects_what_the_spec_does(spec_validator: Any) -> None:
    bad_state = {"@type": "ProductOrderStateChangeEvent", "event": {"productOrder": {"@type": "ProductOrder",
                                                                                      "state": "done"}}}
    assert any("'done' is not one of" in message for message in spec_validator(bad_state))
    no_type = {"@type": "ProductOrderMilestoneEvent", "event": {"productOrder": {"id": "X"}}}
    assert any("'@type' is a required property" in message for message in spec_validator(no_type))


def subscribe(env: dict[str, str], url: str, *args: str) -> str:
    result = dro(env, "events", "subscribe", url, *args)
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def send(env: dict[str, str], *args: str) -> Result:
    return dro(env, "events", "send", "--timeout", "2", *args)


def whole_order(env: dict[str, str]) -> None:
    assert dro(env, "run", str(ORDER), "--catalog", str(LAPTOP)).exit_code == 0
    assert dro(env, "complete", "ORD-1001", "credit_check").exit_code == 0
    assert dro(env, "complete", "ORD-1001", "install").exit_code == 0
    assert dro(env, "signal", "ORD-1001", "work_order.completed").exit_code == 0


def test_events_arrive_in_order_and_valid_against_the_tmf622_schemas(
        env: dict[str, str], receiver: Receiver, spec_validator: Any) -> None:
    Path(env["DRO_STATE_DIR"]).mkdir()
    subscribe(env, receiver.url, "--bearer-env", TOKEN_ENV)
    env[TOKEN_ENV] = TOKEN
    whole_order(env)
    result = send(env)
    assert result.exit_code == 0, result.output
    kinds = {event["@type"] for event in receiver.received}
    assert kinds == {"ProductOrderStateChangeEvent", "ProductOrderMilestoneEvent",
                     "ProductOrderInformationRequiredEvent"}
    for event in receiver.received:
        assert spec_validator(event) == [], event
    states = [e["event"]["productOrder"]["state"] for e in receiver.received
              if e["@type"] == "ProductOrderStateChangeEvent"]
    assert states[0] == "acknowledged" and states[-1] == "completed" and "inProgress" in states
    seqs = [int(event["id"].split(":")[1]) for event in receiver.received]
    assert seqs == sorted(seqs)
    assert all(h["Authorization"] == f"Bearer {TOKEN}" for h in receiver.headers)
    state_dir = Path(env["DRO_STATE_DIR"])
    stored = "".join(p.read_text() for p in [state_dir / "listeners.json", *state_dir.glob("orders/*/delivery.*")])
    assert TOKEN not in stored and TOKEN_ENV in stored
    assert TOKEN not in json.dumps(receiver.received) and TOKEN not in result.output
    again = send(env)  # nothing new: nothing sent
    assert again.exit_code == 0 and "sent 0 events" in again.stdout and len(receiver.ids()) == len(seqs)


def test_a_jeopardy_crossing_sends_a_jeopardy_alert(env: dict[str, str], receiver: Receiver,
                                                    spec_validator: Any) -> None:
    Path(env["DRO_STATE_DIR"]).mkdir()
    subscribe(env, receiver.url, "--events", "ProductOrderJeopardyAlertEvent")
    assert dro(env, "run", str(ORDER), "--catalog", str(LAPTOP)).exit_code == 0
    later = env | {"DRO_NOW": "2026-12-02T10:00:00Z"}
    assert dro(later, "tick").exit_code in (0, 1)
    assert receiver.received == []  # dro tick sends nothing unless --send-events
    assert send(later).exit_code == 0
    alerts = receiver.received
    assert alerts and {e["@type"] for e in alerts} == {"ProductOrderJeopardyAlertEvent"}
    assert all(spec_validator(e) == [] for e in alerts)
    assert {a["event"]["productOrder"]["productOrderJeopardyAlert"][0]["jeopardyType"] for a in alerts} >= {"jeopardy"}


def test_the_listener_down_then_up_loses_nothing_and_redelivers_with_one_id(
        env: dict[str, str], receiver: Receiver) -> None:
    Path(env["DRO_STATE_DIR"]).mkdir()
    subscribe(env, receiver.url, "--events", "dro.record,ProductOrderStateChangeEvent")
    receiver.up = False
    whole_order(env)
    down = send(env, "--max-attempts", "50")
    assert down.exit_code == 1 and "HTTP 503" in down.stderr and receiver.received == []
    receiver.up = True
    backing_off = send(env)  # the retry is not due yet: nothing is sent, nothing lost
    assert backing_off.exit_code == 0 and "sent 0 events, 1 waiting" in backing_off.stdout
    state_dir = Path(env["DRO_STATE_DIR"])
    for path in state_dir.glob("orders/*/delivery.*.json"):  # the backoff's wait, over
        path.write_text(json.dumps(json.loads(path.read_text()) | {"next_at": 0}))
    assert send(env).exit_code == 0
    records = [e for e in receiver.received if e["@type"] == "dro.record"]
    journal = (state_dir / "orders" / "ORD-1001" / "journal.jsonl").read_text().splitlines()
    assert [e["record"]["seq"] for e in records] == list(range(1, len(journal) + 1))
    assert len(set(receiver.ids())) == len(receiver.ids())


def test_dead_letters_after_n_failures_then_resend(env: dict[str, str], receiver: Receiver) -> None:
    Path(env["DRO_STATE_DIR"]).mkdir()
    subscribe(env, receiver.url)
    assert dro(env, "run", str(ORDER), "--catalog", str(LAPTOP)).exit_code == 0
    receiver.up = False
    assert send(env, "--max-attempts", "1").exit_code == 1
    failed = dro(env, "events", "--failed")
    ids = [line.split("\t")[0] for line in failed.stdout.splitlines()]
    assert "ORD-1001:1:ProductOrderStateChangeEvent" in ids
    receiver.up = True
    one = dro(env, "events", "resend", ids[0])
    assert one.exit_code == 0 and receiver.ids() == [ids[0]]
    assert dro(env, "events", "resend", "--all").exit_code == 0
    assert receiver.ids() == ids and dro(env, "events", "--failed").stdout == ""
    assert send(env).exit_code == 0 and receiver.ids() == ids  # dead letters are not sent again by a pass


@pytest.mark.parametrize(("args", "message"), [
    (["subscribe", "not a url"], "bad listener URL"),
    (["subscribe", "https://user:pw@crm.example.com/x"], "holds credentials"),
    (["subscribe", "http://127.0.0.1/x", "--events", "Nope"], "unknown event type 'Nope'"),
    (["subscribe", "http://127.0.0.1/x", "--bearer-env", "abc def"], "--bearer-env takes the NAME"),
    (["unsubscribe", "L-nope"], "no listener 'L-nope'"),
    (["resend", "X:1:Y"], "no dead letter 'X:1:Y'"),
    (["resend"], "give an event id or --all"),
])
def test_bad_input_is_a_clear_error_and_exit_2(env: dict[str, str], args: list[str], message: str) -> None:
    Path(env["DRO_STATE_DIR"]).mkdir()
    result = dro(env, "events", *args)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output


def test_unsubscribe_removes_the_listener(env: dict[str, str], receiver: Receiver) -> None:
    Path(env["DRO_STATE_DIR"]).mkdir()
    listener = subscribe(env, receiver.url)
    assert listener in dro(env, "events", "list").stdout
    assert dro(env, "events", "unsubscribe", listener).exit_code == 0
    assert dro(env, "events", "list").stdout == ""


def test_a_crash_before_the_delivery_file_is_written_redelivers_with_the_same_ids(
        env: dict[str, str], receiver: Receiver) -> None:
    Path(env["DRO_STATE_DIR"]).mkdir()
    listener = subscribe(env, receiver.url)
    whole_order(env)
    assert send(env).exit_code == 0
    first = receiver.ids()
    (Path(env["DRO_STATE_DIR"]) / "orders" / "ORD-1001" / f"delivery.{listener}.json").unlink()  # as if never written
    assert send(env).exit_code == 0
    assert receiver.ids() == first + first


def test_a_missing_credential_sends_nothing_and_counts_no_attempt(env: dict[str, str], receiver: Receiver) -> None:
    Path(env["DRO_STATE_DIR"]).mkdir()
    subscribe(env, receiver.url, "--bearer-env", TOKEN_ENV)
    assert dro(env, "run", str(ORDER), "--catalog", str(LAPTOP)).exit_code == 0
    missing = send(env, "--max-attempts", "1")
    assert missing.exit_code == 1 and f"environment variable {TOKEN_ENV} is not set" in missing.stderr
    assert receiver.received == [] and dro(env, "events", "--failed").stdout == ""
    assert send(env | {TOKEN_ENV: TOKEN}).exit_code == 0 and receiver.received


def test_tick_sends_events_when_asked(env: dict[str, str], receiver: Receiver) -> None:
    Path(env["DRO_STATE_DIR"]).mkdir()
    subscribe(env, receiver.url, "--events", "ProductOrderJeopardyAlertEvent")
    assert dro(env, "run", str(ORDER), "--catalog", str(LAPTOP)).exit_code == 0
    later = env | {"DRO_NOW": "2026-12-02T10:00:00Z"}
    assert dro(later, "tick", "--send-events").exit_code in (0, 1)
    assert {e["@type"] for e in receiver.received} == {"ProductOrderJeopardyAlertEvent"}
