"""`dro import salesforce`: a Salesforce DRO export (CSV or SOQL JSON) as a formatted dro catalog."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dro_cli.importers.salesforce.context import Context, Note
from dro_cli.importers.salesforce.records import READ, ImportFailure, read_export
from dro_cli.importers.salesforce.rules import decompositions_text, fallout_text, jeopardy_text, scenarios_text
from dro_cli.importers.salesforce.steps import groups_text
from dro_cli.importers.salesforce.values import quote

__all__ = ["ImportFailure", "Imported", "convert", "write_catalog"]


@dataclass
class Imported:
    files: dict[str, str]  # file name in the catalog -> text
    notes: list[Note]
    collisions: list[tuple[str, str, str]]


def convert(export: Path, name: str) -> Imported:
    from dsl.formatter import format_text

    records = read_export(export)
    context = Context()
    context.unread(records, READ)
    files = groups_text(records, context)
    files["products.dro"] = decompositions_text(records["ProductFulfillmentDecompRule"], context)
    files["scenarios.dro"] = scenarios_text(records["ProductFulfillmentScenario"], context)
    files["rules.dro"] = (jeopardy_text(records["FulfillmentStepJeopardyRule"], context) + "\n"
                          + fallout_text(records["FulfillmentFalloutRule"], context))
    files["endpoints.dro"] = "\n".join(
        f"# integration definition {quote(name)}, first named by {context.endpoint_origins[name]}\n"
        f'endpoint {ident} {{\n  url env("{ident.upper()}_URL")\n}}\n'
        for name, ident in sorted(context.endpoints.items(), key=lambda pair: pair[1]))
    files = {file: f"# Imported from the Salesforce DRO export {export.name}.\n\n{text}"
             for file, text in files.items() if text.strip()}
    for file, text in list(files.items()):
        formatted, diagnostics = format_text(text, file)
        if formatted is None:  # a bug of the importer, not of the input: say so, located
            raise ImportFailure(file, f"generated text does not parse: {diagnostics[0].summary}",
                                "report this as a dro bug, with the export")
        files[file] = formatted
    files["sf_flows.py"] = _flows_module(context.flow_functions)
    files["dro.yaml"] = f"name: {name}\n"
    collisions = context.collisions
    files["IMPORT_REPORT.md"] = report_text(context.notes, collisions)
    return Imported(files, sorted(context.notes, key=lambda n: n.place), collisions)


def _flows_module(functions: dict[str, str]) -> str:
    """A stub per Salesforce flow (name -> function), so that the catalog validates before the port."""
    stubs = "".join(
        f"\n\ndef {function}(ctx: Mapping[str, Any]) -> dict[str, Any]:\n"
        f"    raise NotImplementedError({quote('port the Salesforce flow ' + name + ' to Python')})\n"
        for name, function in sorted(functions.items(), key=lambda pair: pair[1]))
    return ('"""Stubs of the Salesforce flows the imported steps call: write each one in Python."""\n\n'
            "from collections.abc import Mapping\nfrom typing import Any\n" + stubs)


def report_text(notes: list[Note], collisions: list[tuple[str, str, str]]) -> str:
    lines = ["# What the import could not express", ""]
    ordered = sorted(notes, key=lambda n: n.place)
    lines += [f"- {n.origin}, {n.column} = {n.value!r}: {n.why}" for n in ordered] or ["Nothing."]
    lines += ["", "# Ids renamed because another name took them", ""]
    lines += [f"- {name!r}: {got} ({wanted} was taken)" for name, wanted, got in collisions] or ["None."]
    return "\n".join(lines) + "\n"


def write_catalog(files: dict[str, str], target: Path, *, force: bool, export: Path) -> None:
    """Everything or nothing: written to a directory beside the target, then renamed over it."""
    if target.resolve() == export.resolve() or target.resolve() in export.resolve().parents:
        raise ImportFailure(str(target), "holds the export itself", "write the catalog to another directory")
    if target.exists() and not target.is_dir():
        raise ImportFailure(str(target), "exists and is not a directory", "choose a directory for -o")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise ImportFailure(str(target), "is not empty", "choose an empty directory, or pass --force to replace it")
    parent = target.resolve().parent
    if not parent.is_dir():
        raise ImportFailure(str(target.parent), "no such directory", "create it first")
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    except OSError as exc:
        raise ImportFailure(str(parent), f"cannot be written: {exc.strerror}", "check its permissions") from None
    try:
        for name, text in files.items():
            path = (staging / name).resolve()
            if path.parent != staging.resolve():  # ids are [a-z0-9_]; this keeps it so
                raise ImportFailure(name, "would be written outside the catalog directory", "report this as a bug")
            path.write_text(text, encoding="utf-8")
        if target.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=parent))
            os.replace(target, old / target.name)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ImportFailure(str(target), f"cannot be written: {exc.strerror}",
                            "check the disk and the permissions") from None
