"""Lower a .dro syntax tree to a Document shaped like the YAML form."""

from __future__ import annotations

from typing import Any

from dsl import ast
from dsl.diagnostics import Diagnostic, Span, did_you_mean, error
from dsl.document import Document, Path, SpanTable, is_declaration
from dsl.expressions import unparse

# Block kind -> the top-level section it lands in (as in the YAML form).
SECTIONS = {
    "lane": "lanes",
    "endpoint": "endpoints",
    "decompose": "decompositions",
    "group": "groups",
    "scenario": "scenarios",
    "jeopardy_rule": "jeopardy_rules",
    "fallout_rule": "fallout_rules",
}
# Attributes that take a list, where a single value means a list of one.
LIST_ATTRIBUTES = frozenset({"add", "expect", "actions", "intervals"})


def lower(file: ast.File) -> tuple[Document, list[Diagnostic]]:
    lowering = _Lowering(file.path)
    for block in file.blocks:
        lowering.top_block(block)
    doc = Document(file.path, lowering.data, lowering.spans, lowering.expressions, lowering.reported)
    return doc, lowering.diagnostics


class _Lowering:
    def __init__(self, file: str) -> None:
        self.data: dict[str, Any] = {}
        self.spans = SpanTable()
        self.expressions: dict[Path, ast.Expr] = {}
        self.diagnostics: list[Diagnostic] = []
        self.reported: set[Path] = set()
        self.file = file

    # -- blocks --

    def top_block(self, block: ast.Block) -> None:
        section = SECTIONS.get(block.kind)
        if section is None:
            self._unknown_kind(block)
            return
        if section == "decompositions":
            rules = self.data.setdefault(section, [])
            path: Path = (section, len(rules))
            node: dict[str, Any] = {"product": self._id_text(block)}
            rules.append(node)
            self._locate(path, block.span, block.id.span)
            self._locate((*path, "product"), block.id.span, block.id.span)
        else:
            table = self.data.setdefault(section, {})
            path = (section, self._id_text(block))
            if not self._claim(table, path, block.id.span, f"{block.kind} '{path[1]}'"):
                return
            node = table[path[1]] = {}
            self._locate(path, block.span, block.id.span)
        self._title(node, path, block)
        self._body(node, path, block)

    def _unknown_kind(self, block: ast.Block) -> None:
        if block.kind == "step":
            self.diagnostics.append(error(
                "DRO109", "a step belongs inside a group", block.kind_span,
                hint=f"move `step {self._id_text(block)}` into a `group` block"))
            return
        self.diagnostics.append(error(
            "DRO201", f"unknown declaration '{block.kind}'", block.kind_span,
            detail="A catalog declares: " + ", ".join(SECTIONS) + ".",
            hint=did_you_mean(block.kind, SECTIONS)))

    def _id_text(self, block: ast.Block) -> str:
        return block.id.value if isinstance(block.id, ast.Str) else block.id.name

    def _title(self, node: dict[str, Any], path: Path, block: ast.Block) -> None:
        if block.title is not None:
            node["title"] = block.title.value
            self._locate((*path, "title"), block.title.span, block.title.span)

    def _body(self, node: dict[str, Any], path: Path, block: ast.Block) -> None:
        for item in block.body:
            if isinstance(item, ast.Attribute):
                self._attribute(node, path, item)
            elif isinstance(item, ast.When):
                if self._claim(node, (*path, "when"), item.span, "'when'"):
                    self._expression((*path, "when"), item.expr, item.span)
                    node["when"] = unparse(item.expr)
            elif isinstance(item, ast.After):
                self._after(node, path, item)
            elif isinstance(item, ast.ResumeOn):
                self._resume_on(node, path, item)
            elif isinstance(item, ast.Into):
                self._into(node, path, block, item)
            else:
                self._nested(node, path, block, item)

    def _nested(self, node: dict[str, Any], path: Path, parent: ast.Block, block: ast.Block) -> None:
        if parent.kind != "group" or block.kind != "step":
            where = "a group holds steps" if parent.kind == "group" else f"a {parent.kind} holds no blocks"
            self.diagnostics.append(error(
                "DRO109", f"unexpected block '{block.kind}' inside {parent.kind} '{self._id_text(parent)}'",
                block.kind_span, detail=where[0].upper() + where[1:] + ".",
                hint="declare it at the top level of the file" if block.kind in SECTIONS else None))
            return
        steps = node.setdefault("steps", {})
        self._locate((*path, "steps"), block.span, block.kind_span)
        step_path = (*path, "steps", self._id_text(block))
        if not self._claim(steps, step_path, block.id.span, f"step '{step_path[-1]}'"):
            return
        step: dict[str, Any] = {}
        steps[step_path[-1]] = step
        self._locate(step_path, block.span, block.id.span)
        self._title(step, step_path, block)
        self._body(step, step_path, block)

    # -- phrases --

    def _attribute(self, node: dict[str, Any], path: Path, attr: ast.Attribute) -> None:
        attr_path = (*path, attr.name)
        if not self._claim(node, attr_path, attr.name_span, f"attribute '{attr.name}'"):
            return
        value = self._value(attr_path, attr.value)
        if attr.name in LIST_ATTRIBUTES and not isinstance(value, list):
            value = [value]
            self._locate((*attr_path, 0), attr.value.span)
        node[attr.name] = value
        self.spans.keys[attr_path] = attr.name_span

    def _after(self, node: dict[str, Any], path: Path, after: ast.After) -> None:
        after_path = (*path, "after")
        refs = node.setdefault("after", [])
        self._locate(after_path, after.span, after.span)
        for ref in after.refs:
            ref_path = (*after_path, len(refs))
            if ref.within is None:
                refs.append(ref.step)
            else:
                refs.append({"step": ref.step, "within": ref.within})
                self._locate((*ref_path, "step"), ref.span)
                if ref.within_span is not None:
                    self._locate((*ref_path, "within"), ref.within_span)
            self._locate(ref_path, ref.span)

    def _resume_on(self, node: dict[str, Any], path: Path, phrase: ast.ResumeOn) -> None:
        attr_path = (*path, "resume_on")
        if self._claim(node, attr_path, phrase.span, "'resume_on'"):
            node["resume_on"] = {"event": phrase.event.value}
            self._locate(attr_path, phrase.span, phrase.span)
            self._locate((*attr_path, "event"), phrase.event.span)

    def _into(self, node: dict[str, Any], path: Path, block: ast.Block, into: ast.Into) -> None:
        if block.kind != "decompose":
            self.diagnostics.append(error(
                "DRO109", f"'into' belongs in a decompose block, not in a {block.kind}", into.span,
                hint='write it inside `decompose "PRODUCT" { ... }`'))
            return
        targets = node.setdefault("into", [])
        into_path = (*path, "into", len(targets))
        target: dict[str, Any] = {"product": into.product.value}
        self._locate((*path, "into"), into.span)
        self._locate(into_path, into.span, into.span)
        self._locate((*into_path, "product"), into.product.span)
        if into.when is not None:
            self._expression((*into_path, "when"), into.when, into.when.span)
            target["when"] = unparse(into.when)
        for setting in into.settings:
            setting_path = (*into_path, setting.name)
            if not self._claim(target, setting_path, setting.name_span, f"'{setting.name}'"):
                continue
            if isinstance(setting.value, tuple):
                mapping: dict[str, Any] = {}
                for key, key_span, expr in setting.value:
                    key_path = (*setting_path, key)
                    if self._claim(mapping, key_path, key_span, f"'{key}'"):
                        mapping[key] = self._expression(key_path, expr, key_span)
                target[setting.name] = mapping
                self._locate(setting_path, setting.span, setting.name_span)
            else:
                target[setting.name] = self._expression(setting_path, setting.value, setting.name_span)
        targets.append(target)

    # -- values --

    def _value(self, path: Path, value: ast.Value) -> Any:
        self._locate(path, value.span)
        if isinstance(value, ast.Str):
            self.spans.origins[path] = value.origin
            return value.value
        if isinstance(value, (ast.Num, ast.Const)):
            return value.value
        if isinstance(value, ast.Duration):
            return value.text
        if isinstance(value, ast.Ident):
            return value.name
        if isinstance(value, ast.ListValue):
            return [self._value((*path, i), item) for i, item in enumerate(value.items)]
        if isinstance(value, ast.MapValue):
            mapping: dict[str, Any] = {}
            for entry in value.entries:
                entry_path = (*path, entry.key)
                if self._claim(mapping, entry_path, entry.key_span, f"'{entry.key}'"):
                    mapping[entry.key] = self._value(entry_path, entry.value)
                    self.spans.keys[entry_path] = entry.key_span
            return mapping
        return self._call(path, value)

    def _call(self, path: Path, call: ast.CallValue) -> Any:
        if call.name != "env":
            self.diagnostics.append(error(
                "DRO210", f"unknown function '{call.name}'", call.name_span,
                hint=did_you_mean(call.name, ["env"]) or 'the only function in values is env("NAME", "default")'))
            self.reported.add(path)
            return None
        args = call.args
        if not 1 <= len(args) <= 2 or not all(isinstance(a, ast.Str) for a in args):
            self.diagnostics.append(error(
                "DRO208", "env() takes a variable name and an optional default, both strings", call.span,
                hint='write env("WMS_URL") or env("WMS_URL", "http://127.0.0.1:8081")'))
            self.reported.add(path)
            return None
        result = {"env": args[0].value}  # type: ignore[union-attr]
        self._locate((*path, "env"), args[0].span)
        if len(args) == 2:
            result["default"] = args[1].value  # type: ignore[union-attr]
            self._locate((*path, "default"), args[1].span)
        return result

    def _expression(self, path: Path, expr: ast.Expr, key_span: Span) -> Any:
        """An expression's canonical text; a bare number, true, false or null stays a value, as in YAML."""
        self.expressions[path] = expr
        self._locate(path, expr.span, key_span)
        if isinstance(expr, ast.Literal) and not isinstance(expr.value, str):
            return expr.value
        return unparse(expr)

    # -- bookkeeping --

    def _locate(self, path: Path, span: Span, key_span: Span | None = None) -> None:
        self.spans.values[path] = span
        if key_span is not None:
            self.spans.keys[path] = key_span

    def _claim(self, mapping: dict[str, Any], path: Path, span: Span, what: str) -> bool:
        """Whether `path`'s key is free in `mapping`; reports a duplicate if not."""
        key = path[-1]
        if key not in mapping:
            return True
        first = self.spans.keys.get(path) or self.spans.values.get(path)
        where = f" (first at line {first.line})" if first else ""
        code = "DRO305" if is_declaration(path) else "DRO107"
        verb = "declared" if code == "DRO305" else "set"
        self.diagnostics.append(error(
            code, f"{what} is {verb} twice", span,
            detail=f"{what[0].upper() + what[1:]} is already {verb} in this block{where}."
            if code == "DRO107" else f"{what[0].upper() + what[1:]} is already declared in this file{where}.",
            hint="remove one, or rename it" if code == "DRO305" else "keep one of them"))
        return False
