"""Load a .dro.yaml file into a Document, keeping PyYAML's node marks for locations."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dsl.diagnostics import Diagnostic, Span, TextOrigin, error
from dsl.document import Document, Path, is_declaration
from dsl.limits import (
    MAX_ALIAS_EXPANSION,
    MAX_DEPTH,
    MAX_INTEGER_DIGITS,
    MAX_TEXT_LENGTH,
    number_out_of_range,
    number_problem,
    read_integer,
    text_too_long,
    too_deep,
)

try:  # the C composer is much faster; fall back where libyaml is missing
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment]
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader

_TAG = "tag:yaml.org,2002:"
_STANDARD_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")}
_constructor = yaml.constructor.SafeConstructor()


def load_yaml(path: str, text: str) -> tuple[Document | None, list[Diagnostic]]:
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem):  # libyaml's own limit, far past ours
            return None, [too_deep(_mark_span(path, exc.problem_mark))]
        return None, [_syntax_error(path, text, exc)]
    except yaml.YAMLError as exc:  # pragma: no cover - errors without a mark
        return None, [error("DRO106", f"invalid YAML: {exc}", Span.point(path, 1, 1))]
    if len(nodes) > 1:
        second = nodes[1].start_mark
        return None, [error("DRO108", "more than one YAML document in a file",
                            Span.point(path, second.line + 1, second.column + 1),
                            hint="keep one document per file; split the rest into another *.dro.yaml")]
    builder = _Builder(path)
    root = nodes[0] if nodes else None
    try:
        data = builder.value(root, (), 0) if root is not None else {}
    except _Refused as refused:  # past a limit: nothing more of this file is worth building
        return None, [refused.diagnostic]
    document = Document(path, data if data is not None else {}, NodeLocator(path, root, text),
                        reported=builder.reported)
    return document, builder.diagnostics


def _syntax_error(path: str, text: str, exc: yaml.MarkedYAMLError) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    span = Span.point(path, mark.line + 1, mark.column + 1) if mark else Span.point(path, 1, 1)
    problem = exc.problem or "invalid YAML"
    at_tab = mark is not None and text[mark.index:mark.index + 1] == "\t"
    hint = "indent with spaces, not tabs" if at_tab or "tab" in problem else (
        "check the indentation and the ':' after each key on the lines above")
    context = f" ({exc.context})" if exc.context else ""
    return error("DRO106", f"invalid YAML: {problem}", span, detail=f"YAML could not read this{context}.",
                 hint=hint)


def _mark_span(path: str, mark: yaml.Mark | None) -> Span:
    return Span.point(path, mark.line + 1, mark.column + 1) if mark is not None else Span.point(path, 1, 1)


class _Refused(Exception):
    """A limit of dsl/limits.py that stops building the file."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.summary)
        self.diagnostic = diagnostic


def _span(path: str, node: Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(path, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


class _Builder:
    """Plain data from composed nodes; reports what JSON-shaped data cannot hold."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self.reported: set[Path] = set()
        # An alias shares its anchor's node: a collection met again is being repeated.
        self.built: set[int] = set()
        self.repeating = 0  # how many repeated collections the current value is inside
        self.repeated = 0  # values built inside them
        self.repeating_from: Node | None = None  # the outermost collection being repeated now

    def value(self, node: Node, at: Path, depth: int) -> Any:
        if self.repeating:
            self.repeated += 1
            if self.repeated > MAX_ALIAS_EXPANSION:
                raise _Refused(error(
                    "DRO007", f"YAML aliases repeat more than {MAX_ALIAS_EXPANSION:,} values",
                    _span(self.path, self.repeating_from or node),
                    detail="Each alias (*name) repeats what its anchor (&name) holds, here the anchor's value; "
                           "aliases of anchors that hold aliases multiply (a 'billion laughs').",
                    hint="write the repeated values out, or share less through anchors"))
        if node.tag not in _STANDARD_TAGS:
            self.diagnostics.append(error(
                "DRO108", f"unsupported YAML tag '{node.tag}'", _span(self.path, node),
                hint="catalog files hold plain data: remove the tag"))
            self.reported.add(at)
            return None
        if isinstance(node, ScalarNode):
            return self.scalar(node, at)
        if depth >= MAX_DEPTH:
            raise _Refused(too_deep(_span(self.path, node)))
        if id(node) in self.built:
            return self.repeat(node, at, depth)
        self.built.add(id(node))
        return self.collection(node, at, depth + 1)

    def repeat(self, node: Node, at: Path, depth: int) -> Any:
        """A collection met again, through an alias: what it builds counts towards MAX_ALIAS_EXPANSION."""
        if not self.repeating:
            self.repeating_from = node
        self.repeating += 1
        try:
            return self.collection(node, at, depth + 1)
        finally:
            self.repeating -= 1

    def collection(self, node: Node, at: Path, depth: int) -> Any:
        if isinstance(node, SequenceNode):
            return [self.value(item, (*at, i), depth) for i, item in enumerate(node.value)]
        assert isinstance(node, MappingNode)
        mapping: dict[str, Any] = {}
        first: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _TAG + "merge":
                self.diagnostics.append(error(
                    "DRO108", "YAML merge keys ('<<') are not supported", _span(self.path, key_node),
                    hint="write the keys out"))
                continue
            key = str(key_node.value) if isinstance(key_node, ScalarNode) else None
            if key is None:
                self.diagnostics.append(error(
                    "DRO108", "a YAML key must be plain text", _span(self.path, key_node)))
                continue
            if key in first:
                duplicate_id = is_declaration((*at, key))
                self.diagnostics.append(error(
                    "DRO305" if duplicate_id else "DRO107",
                    f"duplicate id '{key}'" if duplicate_id else f"duplicate key '{key}'", _span(self.path, key_node),
                    detail=f"'{key}' is already set at line {first[key].start_mark.line + 1}; "
                           "YAML would silently keep only the last one.",
                    hint="remove one, or rename it"))
                continue
            if len(key) > MAX_TEXT_LENGTH:
                raise _Refused(text_too_long(_span(self.path, key_node), len(key)))
            first[key] = key_node
            mapping[key] = self.value(value_node, (*at, key), depth)
        return mapping

    def scalar(self, node: ScalarNode, at: Path) -> Any:
        tag = node.tag
        if len(node.value) > MAX_TEXT_LENGTH:
            self.diagnostics.append(text_too_long(_span(self.path, node), len(node.value)))
            self.reported.add(at)
            return None
        if tag == _TAG + "str":
            return node.value
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return node.value.lower() in ("true", "yes", "on", "y")
        if tag == _TAG + "timestamp":  # dates stay text: JSON has no dates
            return node.value
        if tag == _TAG + "int" and len(node.value) > MAX_INTEGER_DIGITS:  # not converted: out of range
            value = read_integer(node.value)
        else:
            value = _constructor.construct_object(node)
        problem = number_problem(value)
        if problem is not None:
            name = next((str(k) for k in reversed(at) if isinstance(k, str)), node.value)
            self.diagnostics.append(number_out_of_range(name, problem, _span(self.path, node)))
            self.reported.add(at)
            return None
        return value


class NodeLocator:
    """Finds spans by walking the composed nodes; only asked when there is something to report."""

    def __init__(self, path: str, root: Node | None, text: str) -> None:
        self.path = path
        self.root = root
        self.text = text

    def _find(self, at: Path) -> tuple[Node | None, Node | None]:
        """The node at `at` and the key node that names it (if in a mapping)."""
        node, key_node = self.root, None
        for segment in at:
            if isinstance(node, MappingNode):
                node, key_node = next(((v, k) for k, v in node.value
                                       if isinstance(k, ScalarNode) and str(k.value) == str(segment)),
                                      (None, None))
            elif isinstance(node, SequenceNode) and isinstance(segment, int) and segment < len(node.value):
                node, key_node = node.value[segment], None
            else:
                return None, None
        return node, key_node

    def value_span(self, at: Path) -> Span | None:
        node, _ = self._find(at)
        return _span(self.path, node) if node is not None else None

    def key_span(self, at: Path) -> Span | None:
        _, key = self._find(at)
        return _span(self.path, key) if key is not None else None

    def text_origin(self, at: Path) -> TextOrigin | None:
        node, _ = self._find(at)
        if not isinstance(node, ScalarNode):
            return None
        span = _span(self.path, node)
        if node.style in ('"', "'"):
            return TextOrigin(span.shifted(1, 1))
        if node.style in ("|", ">"):  # the text starts on the next line, at the block's indentation
            lines = self.text.splitlines()
            first = lines[span.line] if span.line < len(lines) else ""
            indent = len(first) - len(first.lstrip(" "))
            return TextOrigin(Span(self.path, span.line + 1, indent + 1, span.line + 1, indent + 2), indent)
        return TextOrigin(span)
