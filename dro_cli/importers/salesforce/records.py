"""Read a Salesforce DRO export: data-loader CSV files or SOQL query results (JSON), one object per file.

Every record keeps where it came from (file, row, line) so that each generated declaration and each
report entry can name it, and every problem with the input is a located `ImportFailure`.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

OBJECTS = {
    "FulfillmentStepDefinitionGroup": ("Name",),
    "FulfillmentStepDefinition": ("Name", "StepType", "StepDefinitionGroup.Name"),
    "FulfillmentStepDependencyDef": ("FulfillmentStepDefinition", "DependsOnStepDefinition"),
    "ProductFulfillmentDecompRule": ("DestinationProduct.StockKeepingUnit",),
    "ProductFulfillmentScenario": ("Action", "FulfillmentStepDefnGroup.Name"),
    "FulfillmentStepJeopardyRule": ("StepType",),
    "FulfillmentFalloutRule": ("StepType",),
}
# Every column the import reads, by object (OBJECTS' required ones among them).
READ = {
    "FulfillmentStepDefinitionGroup": {"Name", "Description"},
    "FulfillmentStepDefinition": {
        "Name", "Description", "StepType", "Scope", "StepDefinitionGroup.Name", "FlowDefinitionName",
        "IntegrationDefinitionName.DeveloperName", "AssignedTo.Name", "PointOfNoReturn", "AmendGroup.Name",
        "CancelledGroup.Name", "ForcePlanFreezeDuringExecution", "IsSkipBranch", "ExecuteOn", "DelayOf", "DelayUnit",
        "ResumeOnRule.Name", "TaskAllocationType"},
    "FulfillmentStepDependencyDef": {
        "FulfillmentStepDefinition", "FulfillmentStepDefinition.Name", "DependsOnStepDefinition",
        "DependsOnStepDefinition.Name", "DependencyScope", "IsCompensateInReverse", "PropagateStateToDependentStep"},
    "ProductFulfillmentDecompRule": {
        "SourceProduct.StockKeepingUnit", "DestinationProduct.StockKeepingUnit", "SourceProductClassification.Name",
        "Priority"},
    "ProductFulfillmentScenario": {
        "Product.StockKeepingUnit", "ProductClassification.Name", "Action", "FulfillmentStepDefnGroup.Name"},
    "FulfillmentStepJeopardyRule": {
        "Name", "StepType", "EstimatedDuration", "EstimatedDurationUnit", "JeopardyThreshold",
        "JeopardyThresholdUnit", "FlowDefinition", "IntegrationDefinition.DeveloperName"},
    "FulfillmentFalloutRule": {
        "Name", "StepType", "ErrorCode", "RetryPolicy", "RetriesAllowed", "RetryIntervals", "FalloutQueue.Name",
        "FlowDefinitionName", "IntegrationDefinition.DeveloperName"},
}
# A lookup may be exported as the related record's name (`X.Name`) or as the bare field (`X`).
ALIASES = {"FulfillmentStepDefinition": "FulfillmentStepDefinition.Name",
           "DependsOnStepDefinition": "DependsOnStepDefinition.Name"}


class ImportFailure(Exception):
    """Bad input: where (file, row or line, column), what is wrong and how to fix it."""

    def __init__(self, where: str, what: str, fix: str) -> None:
        super().__init__(f"{where}: {what}")
        self.where, self.what, self.fix = where, what, fix


@dataclass(frozen=True)
class Record:
    """One exported row: its object, fields (relationship columns flattened as `A.B`) and origin."""

    object: str
    file: str
    row: int  # 1 = the first record of the file
    line: int  # where the record starts in the file
    fields: dict[str, str] = field(hash=False)

    @property
    def origin(self) -> str:
        return f"{self.file} row {self.row} (line {self.line})"

    def get(self, name: str) -> str:
        value = self.fields.get(name)
        if value is None and name in ALIASES:
            value = self.fields.get(ALIASES[name])
        if value is None:
            for alias, column in ALIASES.items():
                if column == name:
                    value = self.fields.get(alias)
        return (value or "").strip()

    def flag(self, name: str) -> bool:
        return self.get(name).lower() in ("true", "1", "yes")


def read_export(directory: Path) -> dict[str, list[Record]]:
    """Every known object's records; a file of an unknown object or a malformed one fails, located."""
    if not directory.is_dir():
        raise ImportFailure(str(directory), "no such directory", "give the directory the export was written to")
    found: dict[str, list[Record]] = {name: [] for name in OBJECTS}
    sources: dict[str, str] = {}
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in (".csv", ".json") and p.is_file())
    if not files:
        raise ImportFailure(str(directory), "no .csv or .json files",
                            "export the DRO objects with the data loader (one CSV per object) or as SOQL JSON")
    for path in files:
        records = _read_csv(path) if path.suffix.lower() == ".csv" else _read_json(path)
        for record in records:
            previous = sources.setdefault(record.object, path.name)
            if previous != path.name:
                raise ImportFailure(path.name, f"{record.object} records are also in {previous}",
                                    "export each object once, to one file")
            found[record.object].append(record)
    return found


def _decode(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise ImportFailure(f"{path.name}:{line} (byte {exc.start})", "the file is not UTF-8",
                            "export with UTF-8 encoding (the data loader's default)") from None
    except OSError as exc:
        raise ImportFailure(path.name, f"cannot be read: {exc.strerror}", "check the file's permissions") from None


def _object_of_file(path: Path) -> str:
    name = path.stem
    if name not in OBJECTS:
        raise ImportFailure(path.name, f"unknown object {name!r}",
                            f"name each CSV file after its object: one of {', '.join(OBJECTS)}")
    return name


def _read_csv(path: Path) -> list[Record]:
    obj = _object_of_file(path)
    reader = csv.reader(_decode(path).splitlines(keepends=True), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFailure(f"{path.name}:1", "the file is empty", "export it again with its header row")
        header = [column.strip() for column in header]
        _check_columns(path.name, obj, header, "line 1")
        records = []
        start = reader.line_num + 1
        for row_number, row in enumerate(reader, start=1):
            if not any(cell.strip() for cell in row):
                start = reader.line_num + 1
                continue
            if len(row) != len(header):
                raise ImportFailure(f"{path.name}:{start} (row {row_number})",
                                    f"{len(row)} values for {len(header)} columns",
                                    "quote values that hold commas; every row needs one value per column")
            records.append(Record(obj, path.name, row_number, start, dict(zip(header, row, strict=True))))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFailure(f"{path.name}:{reader.line_num}", f"malformed CSV: {exc}",
                            "close the quoted value, or double the quotes inside it") from None
    return records


def _check_columns(file: str, obj: str, columns: list[str], where: str) -> None:
    for column in OBJECTS[obj]:
        if column not in columns and ALIASES.get(column) not in columns:
            raise ImportFailure(f"{file} {where}", f"missing column {column!r}",
                                f"export {obj} with the {column} field")


def _read_json(path: Path) -> list[Record]:
    text = _decode(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFailure(f"{path.name}:{exc.lineno}:{exc.colno}", f"malformed JSON: {exc.msg}",
                            "save the SOQL query result as it came") from None
    records = data.get("records") if isinstance(data, dict) else None
    if not isinstance(records, list):
        raise ImportFailure(path.name, "not a SOQL query result: no \"records\" list",
                            'write {"totalSize": N, "done": true, "records": [...]}')
    if data.get("done") is False:  # the rest is behind nextRecordsUrl: importing a part would drop the rest
        raise ImportFailure(path.name, "an incomplete query result (\"done\": false)",
                            "fetch every page (nextRecordsUrl) and save them as one result, or use queryAll")
    lines = _record_lines(text, len(records))
    out = []
    for index, raw in enumerate(records):
        where = f"{path.name}:{lines[index]} (records[{index}])"
        obj = raw.get("attributes", {}).get("type") if isinstance(raw, dict) else None
        if obj not in OBJECTS:
            raise ImportFailure(where, f"unknown or missing attributes.type {obj!r}",
                                f"give each record its object type: one of {', '.join(OBJECTS)}")
        fields = _flatten(raw)
        _check_columns(path.name, obj, list(fields), f"records[{index}]")
        out.append(Record(obj, path.name, index + 1, lines[index], fields))
    return out


def _flatten(raw: dict[str, object], prefix: str = "") -> dict[str, str]:
    fields: dict[str, str] = {}
    for key, value in raw.items():
        if key == "attributes":
            continue
        if isinstance(value, dict):
            fields.update(_flatten(value, f"{prefix}{key}."))
        elif isinstance(value, bool):
            fields[f"{prefix}{key}"] = str(value).lower()
        elif isinstance(value, float) and value.is_integer():  # SOQL writes numbers as 3.0
            fields[f"{prefix}{key}"] = str(int(value))
        elif value is not None:
            fields[f"{prefix}{key}"] = str(value)
    return fields


def _record_lines(text: str, count: int) -> list[int]:
    """The line each record's `"attributes"` key is on: good enough to find it in an editor."""
    lines, position = [], 0
    for _ in range(count):
        found = text.find('"attributes"', position)
        if found < 0:
            lines.append(1)
            continue
        lines.append(text.count("\n", 0, found) + 1)
        position = found + 1
    return lines
