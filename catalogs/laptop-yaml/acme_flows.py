"""Flows of the Acme laptop catalog: small, deterministic stand-ins for the real systems.

dro imports this module from the catalog directory and calls a flow with one
argument, a read-only mapping: order (with `items`, its fulfillment items), item
(None unless the step is line-item scoped), bundle,
inputs (rendered), step, attempt and idempotency_key. A flow returns a dict of
outputs (captured for later steps) or None; raising is a retryable failure whose
error code is the exception's class name.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any


def _ref(prefix: str, *parts: object) -> str:
    """A stable reference derived from its inputs: the same order gives the same id."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()
    return f"{prefix}-{digest[:10].upper()}"


def start_billing(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Open the subscription in billing once the hardware is reserved and set up."""
    order = ctx["order"]
    seats = sum(  # the order's fulfillment items: each LAPTOP-BUNDLE became a LAPTOP-HW item
        int(item.get("quantity", 1))
        for item in order.get("items", [])
        if item.get("product") == "LAPTOP-HW"
    )
    return {
        "subscription_id": _ref("SUB", order["id"], order["account"]),
        "account": order["account"],
        "seats": seats,
        "billing_start": order.get("requested_date") or "on_delivery",
    }


def register_warranty(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Register the extended warranty with the manufacturer."""
    inputs = ctx["inputs"]
    term = int(inputs.get("term_months", 36))
    services = list(inputs.get("services", []))
    return {
        "warranty_id": _ref("WTY", ctx["idempotency_key"]),
        "term_months": term,
        "services": ",".join(services),
        "covered_bundle": inputs.get("covered_bundle", ""),
    }
