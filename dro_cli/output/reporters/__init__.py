"""Reporters: a run's diagnostics rendered for people, programs and CI services, chosen by `--format`.

Each module renders one format from a `report.Report`; this table is the only place
that knows them all, and it imports a format's module when that format is first
asked for (`dro validate FILE` needs neither SARIF nor XML). May import the rest of
`dro_cli.output` and `dsl`; nothing that runs orders.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dro_cli.output.reporters.report import Reporter

# format -> (module in this package, function)
_FORMATS = {
    "text": ("text", "text_reporter"),
    "json": ("json_document", "json_reporter"),
    "github": ("github", "github_reporter"),
    "sarif": ("sarif", "sarif_reporter"),
    "junit": ("junit", "junit_reporter"),
}


class _Reporters(Mapping[str, "Reporter"]):
    def __getitem__(self, name: str) -> Reporter:
        module, function = _FORMATS[name]
        reporter: Reporter = getattr(importlib.import_module(f"{__name__}.{module}"), function)
        return reporter

    def __iter__(self) -> Iterator[str]:
        return iter(_FORMATS)

    def __len__(self) -> int:
        return len(_FORMATS)


REPORTERS: Mapping[str, Reporter] = _Reporters()
