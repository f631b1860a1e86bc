"""dro ids from Salesforce names: readable, stable (same names, same ids), collisions resolved and reported."""

from __future__ import annotations

import re

RESERVED = {"when", "after", "into", "resume_on", "not", "true", "false", "null", "in", "within", "and", "or"}


def slug(name: str, fallback: str) -> str:
    """`Reserve Laptop (WMS)` -> `reserve_laptop_wms`, `StagedAssetize` -> `staged_assetize`.

    An id starts with a letter, as dro requires; a keyword gets a trailing `_`."""
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", "_", name)  # camelCase API names: StagedAssetize
    text = re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_") or fallback
    if not text[0].isalpha():
        text = f"{fallback}_{text}"
    return f"{text}_" if text in RESERVED else text[:60].rstrip("_")


class Ids:
    """One namespace of ids: the first name keeps the plain id, later different names get `_2`, `_3`."""

    def __init__(self) -> None:
        self.taken: set[str] = set()
        self.collisions: list[tuple[str, str, str]] = []  # (name, id it wanted, id it got)

    def new(self, name: str, fallback: str) -> str:
        wanted = slug(name, fallback)
        got, n = wanted, 1
        while got in self.taken:
            n += 1
            got = f"{wanted}_{n}"
        self.taken.add(got)
        if got != wanted:
            self.collisions.append((name, wanted, got))
        return got
