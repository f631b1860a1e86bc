"""The listeners registered at run time (TMF's /hub pattern), kept in `<state-dir>/listeners.json`.

A listener's credentials are never stored: `auth` names environment variables, as an endpoint's
`auth` does for callouts (`{"bearer": {"env": "NAME"}}`), and they are read when events are sent.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dro_cli.errors import EXIT_USAGE, DroError
from dro_cli.journal.files import write_atomically
from dro_cli.journal.path_errors import about_path

LISTENERS_FILE = "listeners.json"
TMF_EVENTS = ("ProductOrderStateChangeEvent", "ProductOrderMilestoneEvent", "ProductOrderJeopardyAlertEvent",
              "ProductOrderInformationRequiredEvent")
RECORD_EVENT = "dro.record"  # one per journal record, in dro's own form
EVENT_TYPES = (*TMF_EVENTS, RECORD_EVENT)
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Listener:
    id: str
    callback: str
    events: tuple[str, ...] = TMF_EVENTS
    orders: tuple[str, ...] = ()  # only these orders' events (none: every order's)
    auth: dict[str, Any] = field(default_factory=dict)

    def wants(self, event_type: str, order: str) -> bool:
        return event_type in self.events and self.wants_order(order)

    def wants_order(self, order: str) -> bool:
        return not self.orders or order in self.orders

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "callback": self.callback, "events": list(self.events), "orders": list(self.orders),
                "auth": self.auth}


def check_callback(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DroError(f"bad listener URL {url!r}: dro sends events to an http:// or https:// URL with a host",
                       hint="e.g. dro events subscribe https://crm.example.com/listener", exit_code=EXIT_USAGE)
    if parts.username or parts.password:
        raise DroError(f"listener URL {parts.scheme}://{parts.hostname}/... holds credentials, which dro never stores",
                       hint="put the token in an environment variable and pass --bearer-env NAME",
                       exit_code=EXIT_USAGE)
    return url


def check_events(names: list[str]) -> tuple[str, ...]:
    unknown = [name for name in names if name not in EVENT_TYPES]
    if unknown:
        raise DroError(f"unknown event type {unknown[0]!r}", hint="one of: " + ", ".join(EVENT_TYPES),
                       exit_code=EXIT_USAGE)
    return tuple(dict.fromkeys(names)) or TMF_EVENTS


def bearer_auth(env_name: str | None) -> dict[str, Any]:
    if env_name is None:
        return {}
    if not _ENV_NAME.fullmatch(env_name):
        raise DroError(f"--bearer-env takes the NAME of an environment variable, not {env_name[:3]!r}...",
                       hint="e.g. --bearer-env CRM_TOKEN; dro reads it when it sends", exit_code=EXIT_USAGE)
    return {"bearer": {"env": env_name}}


def load(state_dir: Path) -> list[Listener]:
    path = state_dir / LISTENERS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as error:
        raise DroError(f"cannot read the listeners in {path}: {error}", hint="fix or remove the file") from None
    return [Listener(item["id"], item["callback"], tuple(item.get("events") or TMF_EVENTS),
                     tuple(item.get("orders") or ()), dict(item.get("auth") or {}))
            for item in data.get("listeners", [])]


def save(state_dir: Path, listeners: list[Listener]) -> None:
    text = json.dumps({"listeners": [listener.as_json() for listener in listeners]}, indent=2) + "\n"
    with about_path(state_dir / LISTENERS_FILE, "write"):
        write_atomically(state_dir / LISTENERS_FILE, text)


def subscribe(state_dir: Path, callback: str, events: tuple[str, ...], orders: tuple[str, ...],
              auth: dict[str, Any]) -> Listener:
    listeners = load(state_dir)
    listener = Listener("L-" + secrets.token_hex(4), check_callback(callback), events, orders, auth)
    save(state_dir, [*listeners, listener])
    return listener


def unsubscribe(state_dir: Path, listener_id: str) -> Listener:
    listeners = load(state_dir)
    found = find(listeners, listener_id)
    save(state_dir, [listener for listener in listeners if listener.id != listener_id])
    return found


def find(listeners: list[Listener], listener_id: str) -> Listener:
    for listener in listeners:
        if listener.id == listener_id:
            return listener
    known = ", ".join(listener.id for listener in listeners) or "none registered"
    raise DroError(f"no listener {listener_id!r}", hint=f"listeners: {known} (dro events list)",
                   exit_code=EXIT_USAGE)
