"""The warehouse management system: reserve stock, pick it from its bin."""

from __future__ import annotations

from acme_systems.api import Answer, Call, count, digest, ref, text


def reserve(call: Call) -> Answer:
    sku, quantity = text(call.body, "sku"), count(call.body, "quantity")
    return 201, {"id": ref("RES", call.seed), "sku": sku, "quantity": quantity, "status": "reserved"}


def pick(call: Call) -> Answer:
    sku, quantity, order = text(call.body, "sku"), count(call.body, "quantity"), text(call.body, "order")
    bin_digest = int(digest("bin", sku), 16)  # an SKU always lies in the same bin
    location = f"{'ABCDEFGH'[bin_digest % 8]}-{bin_digest // 8 % 40 + 1:02d}-{bin_digest // 320 % 5 + 1}"
    return 201, {"id": ref("PCK", call.seed), "sku": sku, "quantity": quantity, "order": order,
                 "status": "picked", "bin": {"location": location}}
