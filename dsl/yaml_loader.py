"""Load a .dro.yaml file into a Document, keeping PyYAML's node marks for locations."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from dsl.diagnostics import Diagnostic, Span, TextOrigin, error
from dsl.document import Document, Path, is_declaration

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
        data = builder.value(root, ()) if root is not None else {}
    except RecursionError:
        return None, [error("DRO108", "data nested too deeply", _span(path, root) if root else None,
                            detail="Catalog files hold a few levels of maps and lists.",
                            hint="flatten the structure")]
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


def _span(path: str, node: Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(path, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


class _Builder:
    """Plain data from composed nodes; reports what JSON-shaped data cannot hold."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self.reported: set[Path] = set()

    def value(self, node: Node, at: Path) -> Any:
        if node.tag not in _STANDARD_TAGS:
            self.diagnostics.append(error(
                "DRO108", f"unsupported YAML tag '{node.tag}'", _span(self.path, node),
                hint="catalog files hold plain data: remove the tag"))
            self.reported.add(at)
            return None
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        if isinstance(node, SequenceNode):
            return [self.value(item, (*at, i)) for i, item in enumerate(node.value)]
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
            first[key] = key_node
            mapping[key] = self.value(value_node, (*at, key))
        return mapping

    def scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        if tag == _TAG + "str":
            return node.value
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return node.value.lower() in ("true", "yes", "on", "y")
        if tag == _TAG + "timestamp":  # dates stay text: JSON has no dates
            return node.value
        return _constructor.construct_object(node)


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
