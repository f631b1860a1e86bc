"""The license server: entitlements with a key, created for an account and changed to another edition."""

from __future__ import annotations

from acme_systems.api import Answer, Call, Json, count, digest, ref, text


class LicenseServer:
    """The entitlements made so far, by id. Not thread-safe: the simulator runs one route at a time."""

    def __init__(self) -> None:
        self.entitlements: dict[str, Json] = {}

    def create(self, call: Call) -> Answer:
        account, product, seats = text(call.body, "account"), text(call.body, "product"), count(call.body, "seats")
        edition = text(call.body, "edition") if "edition" in call.body else "pro"
        ident = ref("ENT", call.seed)
        entitlement = {"id": ident, "key": license_key(ident, edition), "account": account, "product": product,
                       "seats": seats, "edition": edition, "status": "active"}
        self.entitlements[ident] = entitlement
        return 201, dict(entitlement)

    def change(self, call: Call) -> Answer:
        """Change the edition. An unknown ID is an entitlement from before the simulator started: it exists."""
        edition = text(call.body, "edition")
        entitlement = self.entitlements.setdefault(call.target, {"id": call.target, "status": "active"})
        entitlement.update(edition=edition, key=license_key(call.target, edition))
        return 200, dict(entitlement)


def license_key(*parts: str) -> str:
    chars = digest("license", *parts)[:25].upper()
    return "-".join(chars[i:i + 5] for i in range(0, 25, 5))
