"""Send the events of every order's journal to the listeners: at least once, in order, never blocking a plan.

Per order and listener, `<order-dir>/delivery.<listener>.json` (written atomically) holds the last
record whose events were delivered, the attempts at the next one and when to try again, and the
dead letters: events that failed `max_attempts` times, kept until `dro events resend`. A crash
between a send and that write sends the event again, with the same id. A pass is bounded by
`deadline`; what it does not reach waits for the next pass.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dro_cli.errors import DroError
from dro_cli.events.listeners import Listener
from dro_cli.events.tmf import Event, OrderState, events_for
from dro_cli.journal.file import JOURNAL_FILE
from dro_cli.journal.files import write_atomically
from dro_cli.journal.records import scan_bytes
from dro_cli.runtime.handlers.secrets import InsecureSecret, MissingEnv, auth_headers


@dataclass(frozen=True)
class Policy:
    timeout: float = 2.0  # per request
    deadline: float = 10.0  # per pass
    max_attempts: int = 5
    backoff: float = 1.0  # seconds before the 2nd attempt; doubles after each failure
    clock: Callable[[], float] = time.time


@dataclass
class Report:
    sent: int = 0
    failed: list[str] = field(default_factory=list)  # "ORDER -> LISTENER: why", for the operator
    dead: int = 0  # events put on the dead-letter list this pass
    waiting: int = 0  # (order, listener) pairs left for a later pass


def delivery_file(order_dir: Path, listener_id: str) -> Path:
    return order_dir / f"delivery.{listener_id}.json"


def load_delivery(order_dir: Path, listener_id: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(delivery_file(order_dir, listener_id).read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    return {"delivered": 0, "attempts": 0, "next_at": 0.0, "last_error": None, "failed": []} | data


def save_delivery(order_dir: Path, listener_id: str, state: Mapping[str, Any]) -> None:
    write_atomically(delivery_file(order_dir, listener_id), json.dumps(state, sort_keys=True) + "\n")


def order_events(order_dir: Path, after_seq: int = 0) -> Iterator[tuple[int, list[Event]]]:
    """(seq, its events) for each journal record after `after_seq`, the state replayed from the first."""
    plan = json.loads((order_dir / "plan.json").read_text(encoding="utf-8"))
    steps = {step["id"]: step for step in plan.get("steps", [])}
    state = OrderState(order_dir.name, steps)
    for record in scan_bytes((order_dir / JOURNAL_FILE).read_bytes()).records:
        made = list(events_for(state, record))
        if record["seq"] > after_seq:
            yield record["seq"], made


class NoCredentials(Exception):
    """The listener's `auth` names a variable that is not set (or too short to mask): nothing is sent."""


def post(listener: Listener, event: Event, timeout: float, environ: Mapping[str, str]) -> str | None:
    """None when the listener took the event (2xx), else why not (never a credential)."""
    try:
        credentials = auth_headers(f"listener {listener.id}", listener.auth, environ)
    except (MissingEnv, InsecureSecret) as error:
        raise NoCredentials(str(error)) from None
    headers = {"Content-Type": "application/json", **credentials}
    request = urllib.request.Request(listener.callback, json.dumps(event).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
        return None
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return f"{type(reason).__name__}: {reason}"


def send_all(state_dir: Path, listeners: list[Listener], policy: Policy,
             environ: Mapping[str, str] | None = None) -> Report:
    """One pass over every order for every listener, under a lock (a second pass at once finds it busy)."""
    report = Report()
    env = os.environ if environ is None else environ
    if not listeners:  # nothing to send: not even the lock is taken (a read-only state directory is fine)
        return report
    with _pass_lock(state_dir):
        started = policy.clock()
        orders = sorted(p for p in (state_dir / "orders").glob("*") if (p / JOURNAL_FILE).is_file())
        for order_dir in orders:
            for listener in listeners:
                if policy.clock() - started > policy.deadline:
                    report.waiting += 1
                    continue
                try:
                    _send_order(order_dir, listener, policy, env, report)
                except NoCredentials as error:  # the operator's to fix: no attempt is counted
                    report.failed.append(f"{order_dir.name} -> {listener.id}: {error}")
    return report


def _send_order(order_dir: Path, listener: Listener, policy: Policy, environ: Mapping[str, str],
                report: Report) -> None:
    if not listener.wants_order(order_dir.name):
        return
    delivery = load_delivery(order_dir, listener.id)
    now = policy.clock()
    if delivery["next_at"] > now:
        report.waiting += 1
        return
    size = (order_dir / JOURNAL_FILE).stat().st_size
    if delivery.get("journal_size") == size:  # nothing journaled since the last pass: no replay
        return
    for seq, events in order_events(order_dir, delivery["delivered"]):
        for event in (e for e in events if listener.wants(e["@type"], order_dir.name)):
            why = post(listener, event, policy.timeout, environ)
            if why is None:
                report.sent += 1
                continue
            delivery["attempts"] += 1
            delivery["last_error"] = why
            report.failed.append(f"{order_dir.name} -> {listener.id}: {event['id']}: {why}")
            if delivery["attempts"] < policy.max_attempts:
                delivery["next_at"] = now + policy.backoff * 2 ** (delivery["attempts"] - 1)
                save_delivery(order_dir, listener.id, delivery)
                report.waiting += 1
                return
            delivery["failed"].append({"event": event, "error": why, "attempts": delivery["attempts"]})
            delivery["attempts"] = 0  # the next event starts afresh
            report.dead += 1
        delivery.update(delivered=seq, attempts=0, next_at=0.0)
        save_delivery(order_dir, listener.id, delivery)
    if delivery.get("journal_size") != size:
        save_delivery(order_dir, listener.id, delivery | {"journal_size": size})


def dead_letters(state_dir: Path, listeners: list[Listener]) -> Iterator[tuple[Path, Listener, dict[str, Any]]]:
    for order_dir in sorted((state_dir / "orders").glob("*")):
        for listener in listeners:
            if delivery_file(order_dir, listener.id).is_file():
                for letter in load_delivery(order_dir, listener.id)["failed"]:
                    yield order_dir, listener, letter


def resend(state_dir: Path, listeners: list[Listener], event_id: str | None, policy: Policy,
           environ: Mapping[str, str] | None = None) -> Report:
    """Send dead letters again (`event_id`, else all): those delivered leave the list."""
    report = Report()
    env = os.environ if environ is None else environ
    matched = False
    with _pass_lock(state_dir):
        for order_dir in sorted((state_dir / "orders").glob("*")):
            for listener in listeners:
                if not delivery_file(order_dir, listener.id).is_file():
                    continue
                delivery = load_delivery(order_dir, listener.id)
                kept = []
                for letter in delivery["failed"]:
                    if event_id is not None and letter["event"]["id"] != event_id:
                        kept.append(letter)
                        continue
                    matched = True
                    try:
                        why = post(listener, letter["event"], policy.timeout, env)
                    except NoCredentials as error:
                        raise DroError(str(error), hint="set it, then resend") from None
                    if why is None:
                        report.sent += 1
                    else:
                        kept.append(letter | {"error": why, "attempts": letter["attempts"] + 1})
                        report.failed.append(f"{order_dir.name} -> {listener.id}: {letter['event']['id']}: {why}")
                if kept != delivery["failed"]:
                    save_delivery(order_dir, listener.id, delivery | {"failed": kept})
    if event_id is not None and not matched:
        raise DroError(f"no dead letter {event_id!r}", hint="dro events --failed lists them", exit_code=2)
    return report


class _pass_lock:
    """One pass at a time per state directory: two would send the same events twice."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / "events.lock"

    def __enter__(self) -> None:
        self.handle = open(self.path, "a")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.close()
            raise DroError("another `dro events send` is running in this state directory",
                           hint="it sends what this one would; try again when it ends") from None

    def __exit__(self, *exc: object) -> None:
        self.handle.close()
