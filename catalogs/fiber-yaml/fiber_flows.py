"""Flows of the FiberNet catalog: small, deterministic stand-ins for billing and the TV platform.

dro imports this module from the catalog directory and calls a flow with one
argument, a read-only mapping: order, item (None for a plan-scoped step), bundle,
inputs (rendered), step, attempt and idempotency_key. A flow returns a dict of
outputs or None; an exception is a failure whose error code is its class name
(fallout rules match BillingValidationError, for instance).

Run as a program, the module is also the billing command line of the
`create_billing_account` step:

    python3 -m fiber_flows create-billing-account --account A --country DE --bill-cycle 15

which prints one JSON object (the step's outputs) and exits 0, or exits 2 on bad input.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

BILL_CYCLE_DAYS = frozenset({"1", "8", "15", "22"})

TARIFFS_BY_SPEED = {
    "100": "FN-HOME-100",
    "250": "FN-HOME-250",
    "500": "FN-HOME-500",
    "1000": "FN-GIGA-1000",
    "2000": "FN-GIGA-2000",
}


class BillingValidationError(Exception):
    """Billing refused the request as invalid: retrying will not help."""


def _ref(prefix: str, *parts: object) -> str:
    """A stable reference derived from its inputs: the same request gives the same id."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).hexdigest()
    return f"{prefix}-{digest[:10].upper()}"


def _tariff(speed: object) -> str:
    code = TARIFFS_BY_SPEED.get(str(speed).strip())
    if code is None:
        raise BillingValidationError(f"no fiber tariff for {speed!r} Mbit/s")
    return code


def provision_tv_package(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Entitle the household to its channel package (and drop the previous one)."""
    inputs = ctx["inputs"]
    package = str(inputs["package"])
    previous = str(inputs.get("previous_package", "none"))
    options = inputs.get("options", {})
    return {
        "entitlement_id": _ref("TVE", inputs["household"], package),
        "package": package,
        "replaced": previous if previous not in ("", "none", "None") else "",
        "replay_days": int(options.get("replay_days", 0)),
    }


def start_billing(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Start recurring charges once the service is active."""
    inputs = ctx["inputs"]
    account_id = str(inputs.get("billing_account_id", "")).strip()
    if not account_id:
        raise BillingValidationError("no billing account to charge")
    charges = inputs.get("one_time_charges", [])
    return {
        "subscription_id": _ref("SUB", account_id, ctx["order"]["id"]),
        "billing_account_id": account_id,
        "bill_cycle_day": str(inputs.get("bill_cycle_day", "1")),
        "one_time_total_cents": sum(int(c.get("amount_cents", 0)) for c in charges),
    }


def change_tariff(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Move the subscription to the tariff of the new speed from the effective date."""
    inputs = ctx["inputs"]
    return {
        "from_tariff": _tariff(inputs["from_mbps"]),
        "to_tariff": _tariff(inputs["to_mbps"]),
        "effective": inputs.get("effective") or "next_bill_cycle",
        "change_id": _ref("CHG", ctx["idempotency_key"]),
    }


def cease_billing(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Stop recurring charges and produce the final invoice."""
    inputs = ctx["inputs"]
    return {
        "final_invoice_id": _ref("INV", inputs["account"], ctx["order"]["id"]),
        "effective_date": inputs.get("effective_date") or "immediately",
        "reason": inputs.get("reason") or "unspecified",
    }


def create_billing_account(account: str, country: str, bill_cycle: str) -> dict[str, Any]:
    """Create the customer's billing account, or return the one it already has."""
    if not account:
        raise BillingValidationError("account is empty")
    if bill_cycle not in BILL_CYCLE_DAYS:
        allowed = ", ".join(sorted(BILL_CYCLE_DAYS, key=int))
        raise BillingValidationError(f"bill cycle day {bill_cycle!r} is not one of {allowed}")
    return {
        "billing_account_id": _ref("BA", country, account),
        "currency": "EUR" if country in {"DE", "AT", "FR", "NL", "ES", "IT"} else "USD",
        "bill_cycle_day": bill_cycle,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fiber_flows", description="FiberNet billing stub")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-billing-account")
    create.add_argument("--account", required=True)
    create.add_argument("--country", required=True)
    create.add_argument("--bill-cycle", default="1")
    args = parser.parse_args(argv)
    try:
        outputs = create_billing_account(args.account, args.country, args.bill_cycle)
    except BillingValidationError as exc:
        print(f"billing: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(outputs, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
