"""HTTP checks of one file, before its schema check: base URLs a callout can use, headers it can send.

The schema only says that a written URL starts with http(s)://, and says nothing of an
env() default or of header names; a callout would fail on them in production. The rule
is dsl.urls', which the runtime uses too. A URL reported here is marked reported, so that
the schema does not say the same again less precisely.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from dsl.diagnostics import Diagnostic, error
from dsl.document import Document, Path
from dsl.urls import EXAMPLE, header_problem, header_value_problem, url_problem


def check_http(doc: Document) -> list[Diagnostic]:
    data = doc.data if isinstance(doc.data, dict) else {}
    diagnostics: list[Diagnostic] = []
    for name, endpoint in _entries(data.get("endpoints")):
        at: Path = ("endpoints", name)
        diagnostics += _url(doc, at, endpoint.get("url"))
        diagnostics += _headers(doc, (*at, "headers"), endpoint.get("headers"), f"endpoint '{name}'")
    for group_id, group in _entries(data.get("groups")):
        for step_id, step in _entries(group.get("steps")):
            at = ("groups", group_id, "steps", step_id, "headers")
            diagnostics += _headers(doc, at, step.get("headers"), f"step '{step_id}'")
    return diagnostics


def _entries(section: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(section, dict):
        yield from ((key, value) for key, value in section.items() if isinstance(value, dict))


def _url(doc: Document, endpoint: Path, url: Any) -> list[Diagnostic]:
    at: Path = (*endpoint, "url")
    if isinstance(url, dict) and isinstance(url.get("default"), str):
        text, where, kind = url["default"], (*at, "default"), f"the default of env(\"{url.get('env')}\")"
    elif isinstance(url, str):
        text, where, kind = url, at, "the url"
    else:
        return []
    problem = url_problem(text)
    if problem is None:
        return []
    if where == at:
        doc.reported.add(at)
    return [error("DRO214", f"bad URL: {problem.what}", doc.span(where),
                  detail=f"In endpoint '{endpoint[1]}', {kind}. A callout sends its requests to "
                         f"http(s)://host[:port][/prefix] followed by the step's path, as in '{EXAMPLE}'.",
                  hint=problem.fix)]


def _headers(doc: Document, at: Path, headers: Any, owner: str) -> list[Diagnostic]:
    if not isinstance(headers, dict):
        return []
    found: list[Diagnostic] = []
    for name, value in headers.items():
        problem = header_problem(str(name))
        if problem is not None:
            found.append(error("DRO215", f"bad header name '{name}'", doc.key_span((*at, name)),
                               detail=f"In {owner}: {problem}.",
                               hint="header names are letters, digits and - (as in X-Api-Version), "
                                    "without the ':'"))
        value_problem = header_value_problem(value) if isinstance(value, str) else None
        if value_problem is not None:
            found.append(error("DRO215", f"bad value of header '{name}'", doc.span((*at, name)),
                               detail=f"In {owner}: {value_problem}; a callout with it would fail.",
                               hint="write the value on one line"))
    return found
