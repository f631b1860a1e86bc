"""Checks against the machine that validates: flow modules that can be found, command programs on PATH.

A flow module is looked for as `dro run` imports it, in the catalog directory first and
then in the installed packages, but only looked for: no module is imported, so no code
of the catalog runs at validate time (a package's __init__ is not run to find its
submodules either). These checks are `dro validate`'s alone: compiling, planning and
scenario tests do not depend on what this machine has installed.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
from collections.abc import Iterator
from importlib.machinery import ModuleSpec
from pathlib import Path

from dsl.catalog import Catalog, Decl
from dsl.diagnostics import Diagnostic, error, warning
from dsl.templates import is_template


def check_host(catalog: Catalog, catalog_dir: Path) -> Iterator[Diagnostic]:
    found: dict[str, bool] = {}  # one search per module
    for step in catalog.valid(catalog.steps):
        flow = step.data.get("flow")
        if isinstance(flow, str) and ":" in flow:
            module = flow.partition(":")[0]
            if module not in found:
                found[module] = find_module(module, catalog_dir) is not None
            if not found[module]:
                yield _flow_not_found(step, module, catalog_dir)
        command = step.data.get("command")
        if isinstance(command, list) and command and isinstance(command[0], str):
            yield from _program(step, command[0], catalog_dir)


# How a directory's files are found as modules: the import system's own loaders, through a
# FileFinder made afresh for each look (so a file written a moment ago is seen) and asked
# for one name (so that no parent package is imported, as importlib.util.find_spec would).
_LOADERS = [(importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES),
            (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES),
            (importlib.machinery.SourcelessFileLoader, importlib.machinery.BYTECODE_SUFFIXES)]


def find_module(name: str, catalog_dir: Path) -> ModuleSpec | None:
    """Where module `name` would be imported from (the catalog directory first), without importing it."""
    top, *rest = name.split(".")
    spec = _find_in(top, [str(catalog_dir)])
    if spec is None:
        try:
            spec = importlib.util.find_spec(top)  # a top-level name is looked up, not imported
        except (ImportError, ValueError):
            return None
    for depth in range(1, len(rest) + 1):
        if spec is None or not spec.submodule_search_locations:
            return None  # not found, or a module: a module has no submodules
        spec = _find_in(".".join([top, *rest[:depth]]), list(spec.submodule_search_locations))
    return spec


def _find_in(name: str, folders: list[str]) -> ModuleSpec | None:
    """The module `name` in one of `folders`; the portions of a namespace package, merged."""
    portions: list[str] = []
    for folder in folders:
        spec = importlib.machinery.FileFinder(folder, *_LOADERS).find_spec(name)
        if spec is None:
            continue
        if spec.loader is not None:
            return spec
        portions += list(spec.submodule_search_locations or [])
    if not portions:
        return None
    namespace = importlib.machinery.ModuleSpec(name, None, is_package=True)
    namespace.submodule_search_locations = portions
    return namespace


def _flow_not_found(step: Decl, module: str, catalog_dir: Path) -> Diagnostic:
    file = module.replace(".", "/") + ".py"
    return error("DRO318", f"flow module '{module}' not found", step.span("flow"),
                 detail=f"Step '{step.id}' runs \"{step.data['flow']}\", but no module '{module}' is in the catalog "
                        f"directory ({_shown(catalog_dir)}) or installed, so the step would fail with flow_not_found.",
                 hint=f"write {file} in the catalog directory, install the package that provides it, "
                      "or correct the name")


def _program(step: Decl, program: str, catalog_dir: Path) -> Iterator[Diagnostic]:
    if is_template(program) or not program:
        return
    if os.sep in program or (os.altsep and os.altsep in program):
        path = Path(program) if os.path.isabs(program) else catalog_dir / program  # commands run there
        if path.is_file() and os.access(path, os.X_OK):
            return
        why = "does not exist" if not path.exists() else "is not an executable file"
        yield warning("DRO319", f"program '{program}' {why}", step.span("command", 0),
                      detail=f"Step '{step.id}' runs {_shown(path)}, which {why} on this machine; "
                             "commands run in the catalog directory.",
                      hint="correct the path, or make the file executable (chmod +x)")
        return
    import shutil

    if shutil.which(program) is None:
        yield warning("DRO319", f"program '{program}' is not on PATH", step.span("command", 0),
                      detail=f"Step '{step.id}' runs '{program}', which is not found on this machine's PATH. "
                             "A warning, not an error: the machine that runs orders may have it.",
                      hint="install it, correct the name, or write its path")


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)

