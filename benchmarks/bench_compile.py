"""compile: the catalog compiler, in process, on the large generated catalog."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml
from bytecode import write_bytecode
from common import (
    BenchmarkError,
    Context,
    Result,
    Timings,
    catalog_files,
    command,
    compare,
    fmt_seconds,
    time_each,
)

from dsl.gc_pause import collector_paused

TARGET_YAML = 3.0      # compile the YAML form <= 3x parsing it with yaml.CSafeLoader
TARGET_DRO = 1.5       # compile the DSL form <= 1.5x compiling the YAML form
PARSE = "yaml.CSafeLoader parse"
# One compile in a process of its own: imports, grammar loading and the first round's caches counted.
FRESH = ("from dsl import compile_catalog\n"
         "import sys\n"
         "sys.exit(0 if compile_catalog([sys.argv[1]]).templates is not None else 1)\n")
LARK = "lark parse"             # the DSL files through lark alone, its own loop: no AST, no checks


def _compiler() -> Callable[[list[Path]], Any]:
    try:
        from dsl import compile_catalog
    except ImportError as e:
        raise BenchmarkError(f"dsl.compile_catalog is not available yet ({e})") from e
    return compile_catalog


def check_compiled(label: str, result: Any) -> None:
    """Raise BenchmarkError unless `result` has templates and no error diagnostics."""
    errors = [d for d in result.diagnostics if d.is_error]
    if errors or result.templates is None:
        shown = "; ".join(f"error[{d.code}]: {d.summary} --> {d.span}" for d in errors[:3])
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        raise BenchmarkError(f"{label}: {len(errors)} error(s), no templates: {shown}{more}")


def _canonical(templates: Any) -> str:
    """Templates as canonical JSON, without `sources` (file names differ between forms)."""
    if isinstance(templates, dict):
        templates = {k: v for k, v in templates.items() if k != "sources"}
    return json.dumps(templates, sort_keys=True, default=str)


def _yaml_parse(files: list[Path]) -> Callable[[], list[Any]]:
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        raise BenchmarkError("PyYAML has no libyaml (yaml.CSafeLoader): the baseline needs it")

    def parse() -> list[Any]:
        with collector_paused():  # the collector paused as compile_catalog pauses it: one policy for both
            return [yaml.load(f.read_text(encoding="utf-8"), Loader=loader) for f in files]

    return parse


def _lark_parse(files: list[Path]) -> Callable[[], list[Any]]:
    """The DSL files through dro's grammar and lexer, building lark's bare tree: no AST, no checks."""
    from lark import Lark

    from dsl.lexer import FastLexer

    parser = Lark.open_from_package("dsl", "grammar.lark", ("",), parser="lalr", lexer=FastLexer,
                                    start=["start", "expression"], maybe_placeholders=True)

    def parse() -> list[Any]:
        with collector_paused():  # as compile_catalog does, so the floor is measured like the figure
            return [parser.parse(f.read_text(encoding="utf-8"), start="start") for f in files]

    return parse


def run(ctx: Context) -> Iterator[Result]:
    """Compile the large catalog: YAML form vs. a CSafeLoader parse, DSL vs. YAML form."""
    compile_catalog = _compiler()
    yaml_dir, dro_dir = ctx.catalog("yaml"), ctx.catalog("dro")
    last: dict[str, Any] = {}

    def compiling(label: str, directory: Path) -> Callable[[], Any]:
        def fn() -> Any:
            last[label] = None                     # free the previous round's result first
            last[label] = compile_catalog([directory])
            return last[label]
        return fn

    def check(label: str, value: Any) -> None:
        if label not in (PARSE, LARK):
            check_compiled(label, value)

    subjects = {PARSE: _yaml_parse(catalog_files(yaml_dir)),
                "compile-yaml": compiling("compile-yaml", yaml_dir),
                "compile-dro": compiling("compile-dro", dro_dir),
                LARK: _lark_parse(catalog_files(dro_dir))}
    ctx.log(f"compile: {ctx.repeats()} rounds of {', '.join(subjects)}")
    t = time_each(subjects, ctx.repeats(), check)
    yield compare("compile-yaml", t, "compile-yaml", PARSE, TARGET_YAML,
                  _warnings_note(last.get("compile-yaml")) + _cold_note(t, "compile-yaml"))
    notes = _cold_note(t, "compile-dro")
    floor, yaml_compile = t.median.get(LARK), t.median.get("compile-yaml")
    if floor and yaml_compile:
        notes.append(f"lark alone (its own loop, a bare tree) parses the DSL files in {fmt_seconds(floor)}, "
                     f"{floor / yaml_compile:.2f}x the whole YAML compile")
    if "compile-yaml" not in t.errors and "compile-dro" not in t.errors and \
            _canonical(last["compile-dro"].templates) != _canonical(last["compile-yaml"].templates):
        notes.append("the DSL and YAML forms compiled to different templates "
                     "(they should be byte-identical: DESIGN 3.2)")
    yield compare("compile-dro", t, "compile-dro", "compile-yaml", TARGET_DRO, notes)
    yield fresh(ctx, yaml_dir, dro_dir)


def fresh(ctx: Context, yaml_dir: Path, dro_dir: Path) -> Result:
    """compile_catalog of each form in a fresh process (`python -c`), as `dro compile` runs once."""
    write_bytecode()
    subjects = {"compile-dro-fresh": command([sys.executable, "-c", FRESH, str(dro_dir)]),
                "compile-yaml-fresh": command([sys.executable, "-c", FRESH, str(yaml_dir)])}
    ctx.log(f"compile-fresh: {ctx.repeats()} rounds of {', '.join(subjects)}")
    return compare("compile-fresh", time_each(subjects, ctx.repeats()), "compile-dro-fresh",
                   "compile-yaml-fresh", TARGET_DRO)


def _cold_note(t: Timings, name: str) -> list[str]:
    """The first round's time when it stands out: caches kept between in-process runs."""
    first, median = t.first.get(name), t.median.get(name)
    if first is None or median is None or first < 1.2 * median:
        return []
    return [f"first round (cold process) {fmt_seconds(first)}, median {fmt_seconds(median)}"]


def _warnings_note(result: Any) -> list[str]:
    warnings = [d for d in result.diagnostics if not d.is_error] if result else []
    if not warnings:
        return []
    codes = sorted({d.code for d in warnings})
    return [f"{len(warnings)} warning(s) on the generated catalog: {', '.join(codes)}"]
