"""The laptop catalog's simulator (catalogs/laptop/simulator.py), against a real server on 127.0.0.1."""

from __future__ import annotations

import base64
import http.client
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import pytest
from goldens import CATALOGS

from dro_cli.planning.api import make_plan
from dsl.templates import environment

SIMULATOR = CATALOGS / "laptop" / "simulator.py"
TOKEN = "s3cret"
CARRIER = ("acme-shipping", "parcel-pass")
BEARER = {"Authorization": f"Bearer {TOKEN}"}
BASIC = {"Authorization": "Basic " + base64.b64encode(":".join(CARRIER).encode()).decode()}

RESERVATION = {"sku": "LAPTOP-HW", "quantity": "2"}
PICK = {"sku": "DOCK-USB-C", "quantity": "5", "order": "ORD-1002"}
ENTITLEMENT = {"account": "ACME-CORP", "product": "OS-LICENSE", "seats": "2", "edition": "pro"}
SHIPMENT = {"reference": "ORD-1002-A1", "recipient": {"account": "NORDWIND-GMBH", "country": "AT"},
            "pick": "PCK-0123456789", "service": "standard"}


@pytest.fixture(scope="session")
def simmod() -> ModuleType:
    """catalogs/ is not a package: load the simulator from its path."""
    spec = importlib.util.spec_from_file_location("laptop_simulator", SIMULATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def sim(simmod: ModuleType) -> Iterator[Any]:
    with simmod.Simulator(token=TOKEN, basic=CARRIER) as simulator:
        yield simulator


def call(url: str, method: str, path: str, body: object = None,
         headers: Mapping[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """One request on a fresh connection: (status, headers, JSON body)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        data = None if body is None else json.dumps(body).encode()
        connection.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        payload = response.read()
        return response.status, dict(response.getheaders()), json.loads(payload) if payload else None
    finally:
        connection.close()


def post(sim: Any, path: str, body: object, key: str | None = None, **headers: str) -> tuple[int, Any]:
    extra = {**headers, **({"Idempotency-Key": key} if key else {})}
    status, _, payload = call(sim.url, "POST", path, body, extra)
    return status, payload


def capture(payload: Any, path: str) -> Any:
    for part in path.split("."):
        payload = payload.get(part) if isinstance(payload, dict) else None
    return payload


# ---- the routes and what the catalog captures from them ------------------------------------------------------------


def test_reservation_gives_an_id(sim: Any) -> None:
    status, body = post(sim, "/reservations", RESERVATION, "ORD-1001/reserve[L1/LAPTOP-HW]/1")
    assert status == 201
    assert body["id"].startswith("RES-") and body["sku"] == "LAPTOP-HW" and body["quantity"] == 2


def test_pick_gives_an_id_and_a_bin_location(sim: Any) -> None:
    status, body = post(sim, "/picks", PICK, "ORD-1002/pick_accessory[A1]/1")
    assert status == 201
    assert body["id"].startswith("PCK-")
    assert capture(body, "bin.location") and capture(body, "bin.location")[0] in "ABCDEFGH"
    again = post(sim, "/picks", {**PICK, "order": "ORD-9"}, "other")[1]
    assert again["id"] != body["id"] and again["bin"] == body["bin"]  # one SKU, one bin


def test_entitlement_gives_an_id_and_a_key(sim: Any) -> None:
    status, body = post(sim, "/entitlements", ENTITLEMENT, "k", **BEARER)
    assert status == 201
    assert body["id"].startswith("ENT-") and body["seats"] == 2 and body["edition"] == "pro"
    assert [len(group) for group in body["key"].split("-")] == [5] * 5


def test_an_entitlement_changes_edition_and_key(sim: Any) -> None:
    created = post(sim, "/entitlements", ENTITLEMENT, "k", **BEARER)[1]
    status, _, changed = call(sim.url, "PATCH", f"/entitlements/{created['id']}", {"edition": "enterprise"}, BEARER)
    assert status == 200
    assert changed == {**created, "edition": "enterprise", "key": changed["key"]} and changed["key"] != created["key"]


def test_an_entitlement_from_before_the_simulator_can_change(sim: Any) -> None:
    status, _, body = call(sim.url, "PATCH", "/entitlements/ENT-77810", {"edition": "enterprise"}, BEARER)
    assert status == 200
    assert body["id"] == "ENT-77810" and body["edition"] == "enterprise" and body["key"]


def test_shipment_gives_a_tracking_number(sim: Any) -> None:
    status, body = post(sim, "/shipments", SHIPMENT, "ORD-1002/ship_parcel[A1]/1", **BASIC)
    assert status == 201
    assert body["id"].startswith("SHP-") and capture(body, "tracking.number").startswith("1Z")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, BASIC])
def test_entitlements_refuse_a_missing_or_wrong_token(sim: Any, headers: dict[str, str]) -> None:
    for method, path, body in [("POST", "/entitlements", ENTITLEMENT), ("PATCH", "/entitlements/E", {"edition": "x"})]:
        status, sent, payload = call(sim.url, method, path, body, headers)
        assert status == 401
        assert sent["WWW-Authenticate"].startswith("Bearer") and "error" in payload
    assert all(entry["status"] == 401 for entry in sim.requests())


def test_shipments_refuse_wrong_basic_credentials(sim: Any) -> None:
    wrong = {"Authorization": "Basic " + base64.b64encode(b"acme-shipping:nope").decode()}
    assert post(sim, "/shipments", SHIPMENT, **wrong)[0] == 401
    assert post(sim, "/shipments", SHIPMENT)[0] == 401


def test_without_credentials_configured_nothing_is_checked(simmod: ModuleType) -> None:
    with simmod.Simulator() as sim:
        assert post(sim, "/entitlements", ENTITLEMENT)[0] == 201
        assert post(sim, "/shipments", SHIPMENT)[0] == 201


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("GET", "/nowhere", None, 404),
    ("POST", "/reservations/R1/x", RESERVATION, 404),
    ("GET", "/reservations", None, 405),
    ("POST", "/reservations", [1, 2], 400),
    ("POST", "/reservations", {"sku": "LAPTOP-HW"}, 422),
    ("POST", "/reservations", {"sku": "LAPTOP-HW", "quantity": "two"}, 422),
    ("POST", "/picks", {"sku": "", "quantity": 1, "order": "O"}, 422),
    ("POST", "/shipments", {**SHIPMENT, "recipient": "nobody"}, 422),
])
def test_bad_requests_get_a_json_error(sim: Any, method: str, path: str, body: object, status: int) -> None:
    got, headers, payload = call(sim.url, method, path, body, BASIC)
    assert got == status and isinstance(payload["error"], str)
    if status == 405:
        assert headers["Allow"] == "POST"


# ---- idempotency and the request log -------------------------------------------------------------------------------


def test_a_repeated_key_replays_the_response_and_creates_nothing(sim: Any) -> None:
    key = "ORD-1001/reserve[L1/LAPTOP-HW]/1"
    first = call(sim.url, "POST", "/reservations", RESERVATION, {"Idempotency-Key": key})
    again = call(sim.url, "POST", "/reservations", RESERVATION, {"Idempotency-Key": key})
    assert (again[0], again[2]) == (first[0], first[2])
    assert "Idempotent-Replayed" not in first[1] and again[1]["Idempotent-Replayed"] == "true"
    next_attempt = post(sim, "/reservations", RESERVATION, "ORD-1001/reserve[L1/LAPTOP-HW]/2")[1]
    assert next_attempt["id"] != first[2]["id"]
    created = [e for e in sim.requests() if e["key"] == key and not e["replayed"] and e["status"] == 201]
    assert len(created) == 1


def test_a_key_reused_for_another_request_is_refused(sim: Any) -> None:
    assert post(sim, "/reservations", RESERVATION, "k")[0] == 201
    assert post(sim, "/reservations", {**RESERVATION, "quantity": "3"}, "k")[0] == 422
    assert post(sim, "/picks", PICK, "k")[0] == 422


def test_ids_derive_from_the_key(simmod: ModuleType, sim: Any) -> None:
    with simmod.Simulator() as other:
        assert post(sim, "/reservations", RESERVATION, "k")[1] == post(other, "/reservations", RESERVATION, "k")[1]
        assert post(sim, "/picks", PICK, "k2")[1] == post(other, "/picks", PICK, "k2")[1]
    keyless = [post(sim, "/reservations", RESERVATION)[1]["id"] for _ in range(2)]
    assert len(set(keyless)) == 2  # no key, no idempotency


def test_the_request_log_is_served_as_json(sim: Any) -> None:
    post(sim, "/reservations", RESERVATION, "k1")
    post(sim, "/reservations", RESERVATION, "k1")
    post(sim, "/entitlements", ENTITLEMENT)
    status, _, log = call(sim.url, "GET", "/_requests")
    assert status == 200
    assert log == [
        {"method": "POST", "path": "/reservations", "key": "k1", "status": 201, "replayed": False},
        {"method": "POST", "path": "/reservations", "key": "k1", "status": 201, "replayed": True},
        {"method": "POST", "path": "/entitlements", "key": None, "status": 401, "replayed": False},
    ]
    assert log == sim.requests()  # control paths stay out of the log


# ---- faults --------------------------------------------------------------------------------------------------------


def test_a_fault_fails_the_first_requests_then_lets_them_through(simmod: ModuleType) -> None:
    with simmod.Simulator(faults={"/reservations": simmod.Fault(status=503, count=2)}) as sim:
        statuses = [post(sim, "/reservations", RESERVATION, "k")[0] for _ in range(4)]
        assert statuses == [503, 503, 201, 201]
        assert post(sim, "/picks", PICK)[0] == 201
        log = sim.requests()
    assert [(e["status"], e["replayed"]) for e in log if e["path"] == "/reservations"] == [
        (503, False), (503, False), (201, False), (201, True)]


def test_a_fault_without_count_lasts_and_covers_sub_paths(simmod: ModuleType) -> None:
    with simmod.Simulator(faults={"/entitlements": simmod.Fault(status=500)}) as sim:
        assert [post(sim, "/entitlements", ENTITLEMENT)[0] for _ in range(3)] == [500, 500, 500]
        assert call(sim.url, "PATCH", "/entitlements/E1", {"edition": "pro"})[0] == 500


def test_faults_are_set_at_run_time(sim: Any) -> None:
    status, _, faults = call(sim.url, "POST", "/_faults", {"/picks": {"status": 429, "count": 1, "delay": 0.05}})
    assert status == 200 and faults == {"/picks": {"status": 429, "count": 1, "delay": 0.05}}
    assert post(sim, "/picks", PICK)[0] == 429
    assert call(sim.url, "GET", "/_faults")[2] == {"/picks": {"status": 429, "count": 0, "delay": 0.05}}
    assert post(sim, "/picks", PICK)[0] == 201
    assert call(sim.url, "POST", "/_faults", {})[2] == {}


@pytest.mark.parametrize("faults", [
    {"picks": {"status": 503}}, {"/picks": {"status": 200}}, {"/picks": {"status": "503"}},
    {"/picks": {"delay": -1}}, {"/picks": {"count": -1, "status": 503}}, {"/picks": {"oops": 1}}, {"/picks": 503},
])
def test_bad_run_time_faults_are_refused(sim: Any, faults: object) -> None:
    status, _, body = call(sim.url, "POST", "/_faults", faults)
    assert status == 400 and "error" in body
    assert sim.faults() == {}


def test_a_delay_holds_the_answer(simmod: ModuleType) -> None:
    with simmod.Simulator(faults={"/reservations": simmod.Fault(delay=0.3)}) as sim:
        started = time.monotonic()
        assert post(sim, "/reservations", RESERVATION)[0] == 201
        assert time.monotonic() - started >= 0.3


def test_command_line_faults_are_parsed(simmod: ModuleType) -> None:
    fault = simmod.Fault
    assert simmod.parse_faults(["/reservations=503:2", "/picks=500"], ["/picks=1.5", "/shipments=2"]) == {
        "/reservations": fault(503, 2), "/picks": fault(500, None, 1.5), "/shipments": fault(delay=2.0)}


@pytest.mark.parametrize(("fail", "delay"), [
    (["reservations=503:2"], []), (["/reservations"], []), (["/reservations=abc"], []), (["/r=503:x"], []),
    (["/r=200"], []), ([], ["/r=soon"]), ([], ["/r=-1"]),
])
def test_bad_command_line_faults_are_refused(simmod: ModuleType, fail: list[str], delay: list[str]) -> None:
    with pytest.raises(ValueError, match="bad"):
        simmod.parse_faults(fail, delay)


# ---- the sample orders: every callout succeeds and captures what the catalog asks for ------------------------------


def render(value: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        return environment().from_string(value).render(context)
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, context) for v in value]
    return value


@pytest.mark.parametrize("order", sorted((CATALOGS / "laptop" / "orders").iterdir()), ids=lambda p: p.name)
def test_every_callout_of_the_sample_orders_succeeds(sim: Any, order: Path) -> None:
    plan = make_plan(order, CATALOGS / "laptop").plan
    assert plan is not None
    ctx = plan["context"]
    auth = {"license_server": BEARER, "carrier": BASIC, "wms": {}}
    names = {step["id"]: step["step"] for step in plan["steps"]}
    captured: dict[str, dict[str, Any]] = {}
    callouts = [step for step in plan["steps"] if step["type"] == "callout"]
    assert callouts
    for step in callouts:  # the plan lists a step after its dependencies
        config = step["config"]
        context = {
            "order": {**ctx["order"], "items": list(ctx["items"].values())},
            "item": ctx["items"].get(step["item"]), "bundle": ctx["bundles"].get(step["bundle"]),
            "plan": {"id": plan["order"]}, "step": {"id": step["id"], "attempt": 1},
            "outputs": {names[dep]: captured.get(dep, {}) for dep in step["after"]},
        }
        headers = {**render(config.get("headers", {}), context), **auth[config["endpoint"]],
                   "Idempotency-Key": f"{plan['order']}/{step['id']}/1"}
        status, _, body = call(sim.url, config["method"], render(config["path"], context),
                               render(config.get("body"), context), headers)
        assert status in config["expect"], (step["id"], body)
        captured[step["id"]] = {name: capture(body, path) for name, path in config["capture"].items()}
        assert all(isinstance(v, str) and v for v in captured[step["id"]].values()), (step["id"], body)


# ---- lifecycle and the program -------------------------------------------------------------------------------------


def test_stop_closes_the_port(simmod: ModuleType) -> None:
    with simmod.Simulator() as sim:
        url = sim.url
        with pytest.raises(RuntimeError):
            sim.start()
    with pytest.raises(ConnectionRefusedError):
        call(url, "GET", "/_requests")
    with pytest.raises(RuntimeError):
        _ = sim.url
    sim.stop()  # stopping twice is harmless


def _program(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"LICENSE_SERVER_TOKEN", "CARRIER_USER", "CARRIER_PASSWORD"}}
    return subprocess.Popen([sys.executable, str(SIMULATOR), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


@pytest.mark.parametrize("stop_with", [signal.SIGTERM, signal.SIGINT])
def test_the_program_serves_until_a_signal(stop_with: signal.Signals) -> None:
    with _program("--port", "0", "--token", TOKEN, "--fail", "/reservations=503:1") as proc:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:"), line
        url = line.split()[-1]
        assert post_url(url, "/reservations") == 503
        assert post_url(url, "/reservations") == 201
        assert post_url(url, "/entitlements") == 401
        proc.send_signal(stop_with)
        out, err = proc.communicate(timeout=10)
    assert (proc.returncode, out, err) == (0, "", "")


def test_the_program_reads_the_token_from_the_environment() -> None:
    env = {**os.environ, "LICENSE_SERVER_TOKEN": TOKEN}
    with subprocess.Popen([sys.executable, str(SIMULATOR)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=env) as proc:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        assert call(url, "POST", "/entitlements", ENTITLEMENT, BEARER)[0] == 201
        assert call(url, "POST", "/entitlements", ENTITLEMENT)[0] == 401
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert (proc.returncode, err) == (0, "")


def test_the_program_logs_requests_only_when_verbose() -> None:
    with _program("--verbose") as proc:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[-1]
        post_url(url, "/reservations")
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0 and '"POST /reservations HTTP/1.1" 201' in err


def test_the_program_says_when_its_port_is_taken(simmod: ModuleType) -> None:
    with simmod.Simulator() as sim, _program("--port", str(sim.port)) as proc:
        out, err = proc.communicate(timeout=10)
        assert (proc.returncode, out) == (1, "") and err.startswith(f"error: cannot listen on 127.0.0.1:{sim.port}:")


def test_the_program_refuses_a_bad_fault() -> None:
    with _program("--fail", "reservations=503") as proc:
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 2 and out == "" and "expected PATH=STATUS[:COUNT]" in err


def post_url(url: str, path: str) -> int:
    body = ENTITLEMENT if path == "/entitlements" else RESERVATION
    return call(url, "POST", path, body)[0]
