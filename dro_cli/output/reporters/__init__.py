"""Reporters: a run's diagnostics rendered for people, programs and CI services, chosen by `--format`.

Each module renders one format from a `report.Report`; this table is the only place
that knows them all. May import `dro_cli.output` and `dsl`; nothing that runs orders.
"""

from __future__ import annotations

from dro_cli.output.reporters.github import github_reporter
from dro_cli.output.reporters.json_document import json_reporter
from dro_cli.output.reporters.junit import junit_reporter
from dro_cli.output.reporters.report import Reporter
from dro_cli.output.reporters.sarif import sarif_reporter
from dro_cli.output.reporters.text import text_reporter

REPORTERS: dict[str, Reporter] = {
    "text": text_reporter,
    "json": json_reporter,
    "github": github_reporter,
    "sarif": sarif_reporter,
    "junit": junit_reporter,
}
