"""What the conversion collects on its way: ids per kind, the report, the flows and endpoints referred to."""

from __future__ import annotations

from dataclasses import dataclass, field

from dro_cli.importers.salesforce.ids import Ids, slug
from dro_cli.importers.salesforce.records import Record

# Salesforce's own bookkeeping: nothing of the configuration, so not reported.
SYSTEM = {"Id", "OwnerId", "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp",
          "IsDeleted", "LastViewedDate", "LastReferencedDate", "attributes.type", "attributes.url"}


@dataclass(frozen=True)
class Note:
    """Something of the export that dro cannot express (or expresses differently), and where it is."""

    origin: str
    column: str
    value: str
    why: str
    place: tuple[str, int] = ("", 0)  # (file, row): the report's order


@dataclass
class Context:
    steps: Ids = field(default_factory=Ids)  # groups and steps share one namespace: `add` and `compensate` name both
    scenarios: Ids = field(default_factory=Ids)
    rules: Ids = field(default_factory=Ids)
    notes: list[Note] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # Salesforce name -> dro id
    step_ids: dict[str, list[str]] = field(default_factory=dict)  # Salesforce name -> dro ids
    record_ids: dict[str, str] = field(default_factory=dict)  # a step record's origin -> its dro id
    flows: set[str] = field(default_factory=set)  # python function names of sf_flows.py
    flow_functions: dict[str, str] = field(default_factory=dict)  # Salesforce flow name -> function
    flow_ids: Ids = field(default_factory=Ids)
    endpoint_ids: Ids = field(default_factory=Ids)
    endpoint_origins: dict[str, str] = field(default_factory=dict)  # DeveloperName -> the row first naming it
    endpoints: dict[str, str] = field(default_factory=dict)  # DeveloperName -> endpoint id

    def note(self, record: Record, column: str, why: str) -> None:
        self.notes.append(Note(record.origin, column, record.get(column), why, (record.file, record.row)))

    def unread(self, records: dict[str, list[Record]], read: dict[str, set[str]]) -> None:
        """A column the import does not read is reported once, at its first row with a value."""
        for obj, rows in records.items():
            seen: set[str] = set()
            for record in rows:
                for column, value in record.fields.items():
                    if value.strip() and column not in read[obj] and column not in SYSTEM and column not in seen:
                        seen.add(column)
                        self.note(record, column, "not a field dro import reads: left out")

    def flow(self, name: str) -> str:
        if name not in self.flow_functions:
            self.flow_functions[name] = self.flow_ids.new(name, "flow")
        self.flows.add(self.flow_functions[name])
        return f"sf_flows:{self.flow_functions[name]}"

    def endpoint(self, developer_name: str, record: Record) -> str:
        if developer_name not in self.endpoints:
            self.endpoints[developer_name] = self.endpoint_ids.new(developer_name, "endpoint")
            self.endpoint_origins[developer_name] = record.origin
        return self.endpoints[developer_name]

    @property
    def collisions(self) -> list[tuple[str, str, str]]:
        return [c for ids in (self.steps, self.scenarios, self.rules, self.flow_ids, self.endpoint_ids)
                for c in ids.collisions]

    def group_ref(self, name: str) -> str:
        """A group by its name; an unknown name keeps a derived id so that `dro validate` shows it."""
        return self.groups.get(name) or slug(name, "group")

    def step_ref(self, name: str) -> str:
        ids = self.step_ids.get(name)
        return ids[0] if ids else slug(name, "step")
