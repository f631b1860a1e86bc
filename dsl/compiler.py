"""Compile a checked catalog into plan templates: deterministic, content-hashed JSON."""

from __future__ import annotations

import functools
import hashlib
import heapq
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dsl.catalog import Catalog, Decl
from dsl.durations import parse_duration
from dsl.expressions import unparse
from dsl.references import dependencies
from dsl.retry_policies import RETRY_KEYS
from dsl.settings_check import specificity
from dsl.text_check import expression_of

SCHEMA_VERSION = 1
KIND = "dro/plan-templates"
_COMMON = ("title", "description", "type", "lane", "scope", "after", "when", "run_as",
           "duration", "jeopardy", "retry", "queue")
_RUNS = frozenset({"compensate", "on_amend"})
_DURATIONS = frozenset({"duration", "jeopardy", "timeout", "resume_after", "interval", "initial", "max"})


def compile_templates(catalog: Catalog, root: Path | None = None) -> dict[str, Any]:
    """Plan templates for an error-free catalog. Key order is canonical, lists keep meaning."""
    order = topological_order(catalog)
    position = {step_id: i for i, step_id in enumerate(order)}
    members: dict[str, list[str]] = {g: [] for g in catalog.groups}
    for step_id in order:
        group = catalog.steps[step_id].group
        if group is not None:
            members.setdefault(group, []).append(step_id)
    templates: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": KIND,
        "lanes": {d.id: {"title": d.data.get("title", d.id)} for d in catalog.lanes.values()},
        "endpoints": {d.id: _endpoint(d.data) for d in catalog.endpoints.values()},
        "decompositions": {d.id: [_into(d, i, t) for i, t in enumerate(d.data["into"])]
                           for d in catalog.decompositions.values()},
        "groups": {d.id: {"title": d.data.get("title", d.id), "steps": members[d.id]}
                   for d in catalog.groups.values()},
        "steps": {d.id: _step(d, members) for d in catalog.steps.values()},
        "order": order,
        "scenarios": {d.id: _scenario(d, members, position) for d in catalog.scenarios.values()},
        "jeopardy_rules": _rules(catalog.jeopardy_rules, ("duration", "jeopardy")),
        "fallout_rules": _rules(catalog.fallout_rules, ("queue", "policy", *RETRY_KEYS)),
    }
    templates["hash"] = content_hash(templates)
    templates["sources"] = _sources(catalog, root)
    return templates


def content_hash(templates: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON of everything but the hash and the source locations."""
    body = {k: v for k, v in templates.items() if k not in ("hash", "sources")}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def dumps(templates: Mapping[str, Any]) -> str:
    return json.dumps(templates, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def topological_order(catalog: Catalog) -> list[str]:
    """Steps ordered so each comes after its dependencies; ties broken by id (Kahn's algorithm)."""
    waits_for = {s: {t for _, t in dependencies(d)} for s, d in catalog.steps.items()}
    unlocks: dict[str, list[str]] = {s: [] for s in waits_for}
    for step, targets in waits_for.items():
        for target in targets:
            unlocks[target].append(step)
    remaining = {s: len(t) for s, t in waits_for.items()}
    ready = [s for s, n in remaining.items() if n == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        step = heapq.heappop(ready)
        order.append(step)
        for nxt in unlocks[step]:
            remaining[nxt] -= 1
            if remaining[nxt] == 0:
                heapq.heappush(ready, nxt)
    return order


def _normalize(key: str, value: Any) -> Any:
    if key in _DURATIONS and isinstance(value, str):
        return parse_duration(value)
    if key == "intervals":
        return [parse_duration(v) for v in value]
    return value


def _endpoint(data: Mapping[str, Any]) -> dict[str, Any]:
    url = data["url"]
    return {
        "title": data.get("title"),
        "url": {"env": url.get("env"), "default": url.get("default")} if isinstance(url, dict)
        else {"env": None, "default": url},
        "timeout": _normalize("timeout", data.get("timeout")),
        "headers": data.get("headers", {}),
        "auth": data.get("auth"),
    }


def _expression(decl: Decl, *keys: str | int) -> str:
    expr, _ = expression_of(decl, keys)
    assert expr is not None, "compile only error-free catalogs"
    return unparse(expr)


def _into(rule: Decl, i: int, target: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "product": target["product"],
        "when": _expression(rule, "into", i, "when") if "when" in target else None,
        "quantity": _expression(rule, "into", i, "quantity") if "quantity" in target else None,
        "attributes": {k: _expression(rule, "into", i, "attributes", k) for k in target["attributes"]}
        if "attributes" in target else None,
    }


def _step(decl: Decl, members: Mapping[str, list[str]]) -> dict[str, Any]:
    data = decl.data
    step: dict[str, Any] = {
        "group": decl.group,
        "title": data.get("title", decl.id),
        "description": data.get("description"),
        "type": data["type"],
        "lane": data.get("lane"),
        "scope": data.get("scope", "plan"),
        "after": [{"step": r, "within": None} if isinstance(r, str) else {"step": r["step"], "within": r.get("within")}
                  for r in data.get("after", [])],
        "when": _expression(decl, "when") if "when" in data else None,
        "run_as": data.get("run_as"),
        "duration": _normalize("duration", data.get("duration")),
        "jeopardy": _normalize("jeopardy", data.get("jeopardy")),
        "retry": _retry(data["retry"]) if "retry" in data else None,
        "queue": data.get("queue"),
    }
    for key, value in data.items():
        if key in _RUNS:  # the group or step it names, as the template steps it runs in dependency order
            step[key] = members.get(value) or [value]
        elif key not in _COMMON:
            step[key] = {"event": value["event"]} if key == "resume_on" else _normalize(key, value)
    return step


def _retry(data: Mapping[str, Any]) -> dict[str, Any]:
    retry = {k: _normalize(k, data[k]) for k in ("policy", *RETRY_KEYS) if k in data}
    if retry.get("policy") == "exponential":
        retry.setdefault("factor", 2)
    if retry.get("policy") == "staggered":
        retry["retries"] = len(retry["intervals"])
    return retry


def _scenario(decl: Decl, members: Mapping[str, list[str]], position: Mapping[str, int]) -> dict[str, Any]:
    added: set[str] = set()
    for name in decl.data["add"]:
        added.update(members.get(name, [name]))
    return {
        "title": decl.data.get("title", decl.id),
        "when": _expression(decl, "when"),
        "actions": sorted(decl.data.get("actions", ["add"])),
        "add": list(decl.data["add"]),
        "steps": sorted(added, key=position.__getitem__),
    }


def _rules(rules: Mapping[str, Decl], settings: tuple[str, ...]) -> list[dict[str, Any]]:
    compiled = [{"id": r.id, "title": r.data.get("title", r.id), "match": dict(r.data["match"]),
                 **{k: _normalize(k, r.data[k]) for k in settings if k in r.data}}
                for r in rules.values()]
    # Most specific first, so the first match is the one that applies.
    return sorted(compiled, key=lambda r: (-specificity(r), r["id"]))


def _sources(catalog: Catalog, root: Path | None) -> dict[str, str]:
    sources: dict[str, str] = {}
    relative = functools.lru_cache(maxsize=None)(lambda file: _relative(file, root))
    for kind in ("lane", "endpoint", "decomposition", "group", "step", "scenario", "jeopardy_rule",
                 "fallout_rule"):
        for decl in catalog.table(kind).values():
            span = decl.doc.key_span(decl.path)
            if span is not None:
                sources[f"{kind}:{decl.id}"] = f"{relative(span.file)}:{span.line}:{span.col}"
    return sources


def _relative(file: str, root: Path | None) -> str:
    if root is None:
        return file
    try:
        return Path(file).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(file).as_posix()
