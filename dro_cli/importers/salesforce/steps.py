"""FulfillmentStepDefinitionGroup and FulfillmentStepDefinition (with their dependencies) as dro groups."""

from __future__ import annotations

from collections import defaultdict

from dro_cli.importers.salesforce.context import Context
from dro_cli.importers.salesforce.ids import slug
from dro_cli.importers.salesforce.records import ImportFailure, Record
from dro_cli.importers.salesforce.values import DEPENDENCY_SCOPES, SCOPES, STEP_TYPES, duration, quote

NOT_IN_DRO = {
    "IsSkipBranch": "dro has no skip branches: a step's `when` decides whether it is in the plan",
    "ExecuteOn": "dro starts a step when its dependencies are done; it has no ExecuteOn",
    "TaskAllocationType": "dro's manual steps wait in one queue; it has no task allocation types",
}


def groups_text(records: dict[str, list[Record]], context: Context) -> dict[str, str]:
    """One file per group, `group_<id>.dro`, its steps inside it in export order."""
    for record in records["FulfillmentStepDefinitionGroup"]:
        name = record.get("Name")
        if not name:
            raise ImportFailure(f"{record.origin}, column 'Name'", "empty", "give every step group a name")
        if name in context.groups:
            raise ImportFailure(f"{record.origin}, column 'Name'", f"a second step group named {name!r}",
                                "group names must be unique: rename or remove one of them")
        context.groups[name] = context.steps.new(name, "group")
    steps_of: dict[str, list[Record]] = defaultdict(list)
    for record in records["FulfillmentStepDefinition"]:
        group = record.get("StepDefinitionGroup.Name")
        if group not in context.groups:
            raise ImportFailure(f"{record.origin}, column 'StepDefinitionGroup.Name'",
                                f"step group {group!r} is not in FulfillmentStepDefinitionGroup",
                                "export the group too, or correct the name (dro steps live in a group)")
        if record.get("StepType") not in STEP_TYPES:
            raise ImportFailure(f"{record.origin}, column 'StepType'", f"unknown StepType {record.get('StepType')!r}",
                                f"use one of {', '.join(STEP_TYPES)}")
        if record.get("Scope") and record.get("Scope") not in SCOPES:
            raise ImportFailure(f"{record.origin}, column 'Scope'", f"unknown Scope {record.get('Scope')!r}",
                                f"use one of {', '.join(SCOPES)}")
        if not record.get("Name"):
            raise ImportFailure(f"{record.origin}, column 'Name'", "the step has no name", "give every step a name")
        step_id = context.steps.new(record.get("Name"), "step")
        context.step_ids.setdefault(record.get("Name"), []).append(step_id)
        context.record_ids[record.origin] = step_id
        steps_of[group].append(record)
    after = _dependencies(records["FulfillmentStepDependencyDef"], context)
    files = {}
    for group_record in records["FulfillmentStepDefinitionGroup"]:
        name = group_record.get("Name")
        group_id = context.groups[name]
        body = [_step_text(step, context, after) for step in steps_of[name]]
        description = group_record.get("Description")
        head = f"  description {quote(description)}\n\n" if description else ""
        text = (f"# {group_record.origin}\ngroup {group_id} {quote(name)} {{\n{head}"
                + "\n".join(body) + "}\n")
        files[f"group_{group_id}.dro"] = text
    return files


def _step_text(record: Record, context: Context, after: dict[str, list[str]]) -> str:
    step_id = context.record_ids[record.origin]
    kind = STEP_TYPES[record.get("StepType")]
    lines = [f"  # {record.origin}", f"  step {step_id} {quote(record.get('Name'))} {{", f"    type {kind}"]
    if record.get("Description"):
        lines.append(f"    description {quote(record.get('Description'))}")
    scope = record.get("Scope")
    if scope:
        lines.append(f"    scope {SCOPES[scope]}")
    if scope in ("CrossPlan", "Custom"):
        context.note(record, "Scope", f"dro has no {scope} scope: imported as `scope plan`")
    if after.get(step_id):
        lines.append(f"    after [{', '.join(after[step_id])}]")
    lines += _typed(record, kind, context)
    for column, flag in (("PointOfNoReturn", "point_of_no_return"), ("ForcePlanFreezeDuringExecution", "freeze_plan")):
        if record.flag(column):
            lines.append(f"    {flag} true")
    for column, attribute in (("AmendGroup.Name", "on_amend"), ("CancelledGroup.Name", "compensate")):
        if record.get(column):
            lines.append(f"    {attribute} {context.group_ref(record.get(column))}")
    for column, why in NOT_IN_DRO.items():
        if record.get(column) and record.get(column).lower() != "false":
            context.note(record, column, why)
    return "\n".join(lines) + "\n  }\n"


def _typed(record: Record, kind: str, context: Context) -> list[str]:
    lines = []
    flow, integration = record.get("FlowDefinitionName"), record.get("IntegrationDefinitionName.DeveloperName")
    if record.get("StepType") == "StagedAssetize":
        context.note(record, "StepType", "dro has no assets: StagedAssetize is an `auto` step calling a stub flow")
        flow = flow or "StagedAssetize"
    if kind == "auto":
        lines.append(f"    flow {quote(context.flow(flow or record.get('Name') or 'flow'))}")
        if not record.get("FlowDefinitionName") and record.get("StepType") == "AutoTask":
            context.note(record, "FlowDefinitionName", "no flow named: the stub flow is named after the step")
    elif flow:
        context.note(record, "FlowDefinitionName", f"a {kind} step runs no flow in dro")
    if kind == "callout":
        if not integration:
            raise ImportFailure(f"{record.origin}, column 'IntegrationDefinitionName.DeveloperName'",
                                "a Callout step without an integration definition",
                                "name the integration definition the callout uses")
        lines += [f"    endpoint {context.endpoint(integration, record)}", "    method POST",
                  f"    path {quote('/' + integration)}"]
        context.note(record, "IntegrationDefinitionName.DeveloperName",
                     "an integration definition has no method or path dro can read: POST /<DeveloperName> assumed")
    elif integration:
        context.note(record, "IntegrationDefinitionName.DeveloperName", f"a {kind} step calls no endpoint in dro")
    if kind == "manual" and record.get("AssignedTo.Name"):
        lines.append(f"    queue {slug(record.get('AssignedTo.Name'), 'queue')}")
    elif record.get("AssignedTo.Name"):
        context.note(record, "AssignedTo.Name", f"only manual steps are assigned in dro, not {kind} ones")
    delay = record.get("DelayOf")
    if kind == "pause":
        if record.get("ResumeOnRule.Name"):
            lines.append(f"    resume_on event {quote(record.get('ResumeOnRule.Name'))}")
        if delay:
            wait = duration(delay, record.get("DelayUnit"))
            if wait is None:
                raise ImportFailure(f"{record.origin}, column 'DelayOf'",
                                    f"{delay!r} {record.get('DelayUnit')!r} is not a duration",
                                    "give a number and a DelayUnit of Minutes, Hours, Days or Weeks")
            lines.append(f"    resume_after {wait}")
    else:
        if delay:
            context.note(record, "DelayOf", "dro delays only pause steps (resume_after); no delay before a step")
        if record.get("ResumeOnRule.Name"):
            context.note(record, "ResumeOnRule.Name", "only pause steps resume on an event in dro")
    return lines


def _dependencies(records: list[Record], context: Context) -> dict[str, list[str]]:
    after: dict[str, list[str]] = defaultdict(list)
    for record in records:
        step, on = record.get("FulfillmentStepDefinition"), record.get("DependsOnStepDefinition")
        if step not in context.step_ids:
            raise ImportFailure(f"{record.origin}, column 'FulfillmentStepDefinition'",
                                f"step {step!r} is not in FulfillmentStepDefinition",
                                "export the step too, or correct its name")
        for column in ("FulfillmentStepDefinition", "DependsOnStepDefinition"):
            if len(context.step_ids.get(record.get(column), [])) > 1:
                raise ImportFailure(f"{record.origin}, column {column!r}",
                                    f"{record.get(column)!r} names more than one step",
                                    "rename the steps so that each name is unique")
        if not on:
            raise ImportFailure(f"{record.origin}, column 'DependsOnStepDefinition'", "empty",
                                "name the step it depends on, or remove the row")
        scope = record.get("DependencyScope")
        if scope not in DEPENDENCY_SCOPES:
            raise ImportFailure(f"{record.origin}, column 'DependencyScope'", f"unknown DependencyScope {scope!r}",
                                f"use one of {', '.join(s for s in DEPENDENCY_SCOPES if s)}")
        within = DEPENDENCY_SCOPES[scope]
        # An unknown DependsOn keeps a derived id: `dro validate` then points at it (DRO304).
        after[context.step_ref(step)].append(context.step_ref(on) + (f" within {within}" if within else ""))
        if record.get("IsCompensateInReverse") and not record.flag("IsCompensateInReverse"):
            context.note(record, "IsCompensateInReverse", "dro always compensates in reverse dependency order")
        if record.flag("PropagateStateToDependentStep"):
            context.note(record, "PropagateStateToDependentStep",
                         "dro does not propagate states: a dependent step waits until this one completes")
    return after
