"""The parcel carrier: a shipment for a pick, with a tracking number."""

from __future__ import annotations

from acme_systems.api import Answer, ApiError, Call, digest, ref, text


def ship(call: Call) -> Answer:
    reference, pick = text(call.body, "reference"), text(call.body, "pick")
    recipient = call.body.get("recipient")
    if not isinstance(recipient, dict):
        raise ApiError(422, "field 'recipient' must be an object")
    for name in ("account", "country"):
        text(recipient, name)
    service = text(call.body, "service") if "service" in call.body else "standard"
    number = "1Z" + digest("tracking", call.seed)[:16].upper()
    return 201, {"id": ref("SHP", call.seed), "reference": reference, "pick": pick, "service": service,
                 "status": "label_created",
                 "tracking": {"number": number, "url": f"https://track.parcel-carrier.example.com/{number}"}}
