"""Decomposition rules, scenarios, jeopardy and fallout rules."""

from __future__ import annotations

from collections import defaultdict

from dro_cli.importers.salesforce.context import Context
from dro_cli.importers.salesforce.ids import slug
from dro_cli.importers.salesforce.records import ImportFailure, Record
from dro_cli.importers.salesforce.values import ACTIONS, RETRY_POLICIES, STEP_TYPES, duration, interval, quote


def decompositions_text(records: list[Record], context: Context) -> str:
    by_source: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        source = record.get("SourceProduct.StockKeepingUnit")
        if not source:
            context.note(record, "SourceProductClassification.Name",
                         "dro decomposes products, not classifications: the rule is left out")
            continue
        if record.get("SourceProductClassification.Name"):
            context.note(record, "SourceProductClassification.Name", "dro decomposes by product only: ignored")
        if not record.get("DestinationProduct.StockKeepingUnit"):
            raise ImportFailure(f"{record.origin}, column 'DestinationProduct.StockKeepingUnit'", "empty",
                                "name the product the source decomposes into, or remove the row")
        by_source[source].append(record)
    blocks = []
    for source, rows in by_source.items():
        rows.sort(key=lambda r: _priority(r))
        intos = "".join(f"  # {r.origin}\n  into {quote(r.get('DestinationProduct.StockKeepingUnit'))}\n" for r in rows)
        rows_named = ", ".join(str(r.row) for r in sorted(rows, key=lambda r: r.row))
        blocks.append(f"# {rows[0].file} rows {rows_named}\ndecompose {quote(source)} {{\n{intos}}}\n")
        for r in rows:
            if r.get("Priority"):
                context.note(r, "Priority", "dro has no priorities: the `into` lines are in priority order")
    return "\n".join(blocks)


def _priority(record: Record) -> float:
    text = record.get("Priority") or "0"
    try:
        return float(text)
    except ValueError:
        raise ImportFailure(f"{record.origin}, column 'Priority'", f"{text!r} is not a number",
                            "give Priority as a number") from None


def scenarios_text(records: list[Record], context: Context) -> str:
    blocks = []
    for record in records:
        sku, classification = record.get("Product.StockKeepingUnit"), record.get("ProductClassification.Name")
        action = record.get("Action")
        if action not in ACTIONS:
            raise ImportFailure(f"{record.origin}, column 'Action'", f"unknown Action {action!r}",
                                f"use one of {', '.join(ACTIONS)}")
        if sku:
            when = f"item.product == {quote(sku)}"
            if classification:
                context.note(record, "ProductClassification.Name", "the scenario names a product: it applies to it")
        elif classification:
            when = f"item.attributes.classification == {quote(classification)}"
            context.note(record, "ProductClassification.Name",
                         "dro items have no classification: the scenario reads item.attributes.classification")
        else:
            raise ImportFailure(record.origin, "neither Product.StockKeepingUnit nor ProductClassification.Name",
                                "name the product or the classification the scenario applies to")
        scenario_id = context.scenarios.new(f"{sku or classification} {action}", "scenario")
        if not record.get("FulfillmentStepDefnGroup.Name"):
            raise ImportFailure(f"{record.origin}, column 'FulfillmentStepDefnGroup.Name'", "empty",
                                "name the step group the scenario adds")
        group = context.group_ref(record.get("FulfillmentStepDefnGroup.Name"))
        blocks.append(f"# {record.origin}\nscenario {scenario_id} {{\n  when {when}\n"
                      f"  actions [{ACTIONS[action]}]\n  add {group}\n}}\n")
    return "\n".join(blocks)


def _match(record: Record, context: Context, *, error: bool) -> str:
    step_type = record.get("StepType")
    if step_type not in STEP_TYPES:
        raise ImportFailure(f"{record.origin}, column 'StepType'", f"unknown StepType {step_type!r}",
                            f"use one of {', '.join(STEP_TYPES)}")
    keys = [f"type: {STEP_TYPES[step_type]}"]
    flow = record.get("FlowDefinition") or record.get("FlowDefinitionName")
    if flow:
        keys.append(f"flow: {quote(context.flow(flow))}")
    if record.get("IntegrationDefinition.DeveloperName"):
        keys.append(f"endpoint: {context.endpoint(record.get('IntegrationDefinition.DeveloperName'), record)}")
    if error and record.get("ErrorCode"):
        keys.append(f"error: {quote(record.get('ErrorCode'))}")
    return "{ " + ", ".join(keys) + " }"


def jeopardy_text(records: list[Record], context: Context) -> str:
    blocks = []
    for record in records:
        rule_id = context.rules.new(record.get("Name") or f"jeopardy {record.get('StepType')}", "rule")
        lines = [f"# {record.origin}", f"jeopardy_rule {rule_id} {{",
                 f"  match {_match(record, context, error=False)}"]
        for column, attribute in (("EstimatedDuration", "duration"), ("JeopardyThreshold", "jeopardy")):
            if record.get(column):
                value = duration(record.get(column), record.get(column + "Unit"))
                if value is None:
                    raise ImportFailure(f"{record.origin}, column {column!r}",
                                        f"{record.get(column)!r} {record.get(column + 'Unit')!r} is not a duration",
                                        f"give a number and a {column}Unit of Minutes, Hours, Days or Weeks")
                lines.append(f"  {attribute} {value}")
        blocks.append("\n".join(lines) + "\n}\n")
    return "\n".join(blocks)


def fallout_text(records: list[Record], context: Context) -> str:
    blocks = []
    for record in records:
        name = record.get("Name") or f"fallout {record.get('StepType')} {record.get('ErrorCode')}"
        lines = [f"# {record.origin}", f"fallout_rule {context.rules.new(name, 'rule')} {{",
                 f"  match {_match(record, context, error=True)}"]
        policy = record.get("RetryPolicy")
        if policy:
            if policy not in RETRY_POLICIES:
                raise ImportFailure(f"{record.origin}, column 'RetryPolicy'", f"unknown RetryPolicy {policy!r}",
                                    f"use one of {', '.join(RETRY_POLICIES)}")
            lines.append(f"  policy {RETRY_POLICIES[policy]}")
        raw = [part for part in record.get("RetryIntervals").replace(";", ",").split(",") if part.strip()]
        intervals = [interval(part) for part in raw]
        if None in intervals:
            raise ImportFailure(f"{record.origin}, column 'RetryIntervals'", f"{record.get('RetryIntervals')!r} "
                                "is not a list of intervals", "write seconds or durations, comma separated: 10,60,300")
        if record.get("RetriesAllowed") and not record.get("RetriesAllowed").isdigit():
            raise ImportFailure(f"{record.origin}, column 'RetriesAllowed'",
                                f"{record.get('RetriesAllowed')!r} is not a whole number", "give a count: 3")
        if record.get("RetriesAllowed"):
            lines.append(f"  retries {record.get('RetriesAllowed')}")
        if policy == "Staggered" and intervals:
            lines.append(f"  intervals [{', '.join(i for i in intervals if i)}]")
        elif policy == "Monotonous" and intervals:
            lines.append(f"  interval {intervals[0]}")
            if len(intervals) > 1:
                context.note(record, "RetryIntervals", "a monotonous policy has one interval: the first is kept")
        elif intervals:
            context.note(record, "RetryIntervals", f"a {policy or 'missing'} policy waits no interval")
        if record.get("FalloutQueue.Name"):
            lines.append(f"  queue {slug(record.get('FalloutQueue.Name'), 'queue')}")
        blocks.append("\n".join(lines) + "\n}\n")
    return "\n".join(blocks)
