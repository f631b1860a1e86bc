"""HTTP checks of one file, before its schema check: base URLs a callout can use, headers it can send.

The schema only says that a written URL starts with http(s)://, and says nothing of an
env() default, of header names or of a path's '..'; a callout would fail on them in
production. The rules are dsl.urls', which the runtime uses too. A URL or path reported
here is marked reported, so that the schema does not say the same again less precisely.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from dsl.diagnostics import Diagnostic, error
from dsl.document import Document, Path
from dsl.urls import EXAMPLE, header_problem, header_value_problem, path_problem, url_problem

# What a path template's parts stand for when its written text is checked: a value is one encoded
# segment ('x'); one marked `| raw_path` may hold slashes ('/x'); tags and comments add nothing.
_VALUE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_TAG = re.compile(r"\{%.*?%\}|\{#.*?#\}", re.DOTALL)


def check_http(doc: Document) -> list[Diagnostic]:
    data = doc.data if isinstance(doc.data, dict) else {}
    diagnostics: list[Diagnostic] = []
    for name, endpoint in _entries(data.get("endpoints")):
        at: Path = ("endpoints", name)
        diagnostics += _url(doc, at, endpoint.get("url"))
        diagnostics += _headers(doc, (*at, "headers"), endpoint.get("headers"), f"endpoint '{name}'")
    for group_id, group in _entries(data.get("groups")):
        for step_id, step in _entries(group.get("steps")):
            at = ("groups", group_id, "steps", step_id)
            diagnostics += _headers(doc, (*at, "headers"), step.get("headers"), f"step '{step_id}'")
            diagnostics += _path(doc, (*at, "path"), step.get("path"), step_id)
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


def _path(doc: Document, at: Path, path: Any, step_id: str) -> list[Diagnostic]:
    if not isinstance(path, str):
        return []
    written = _TAG.sub("", _VALUE.sub(lambda m: "/x" if "raw_path" in m.group() else "x", path))
    problem = path_problem(written)
    if problem is None:
        return []
    doc.reported.add(at)
    return [error("DRO213", "callout path could leave its endpoint", doc.span(at),
                  detail=f"In step '{step_id}', the path {path!r}: {problem}. A callout's path is appended "
                         "to its endpoint's base URL and must stay below it; values rendered into it are "
                         "percent-encoded, so that an order's data chooses a segment, never a place.",
                  hint="write a path such as \"/reservations/{{ item.id }}\", with no '.', '..', '#' or '\\'")]


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
