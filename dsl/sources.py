"""Find a catalog's files and read them as UTF-8, keeping the text for diagnostics."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dsl.diagnostics import Diagnostic, Span, error
from dsl.limits import MAX_FILE_BYTES

DSL_SUFFIX = ".dro"
YAML_SUFFIXES = (".dro.yaml", ".dro.yml")
# A directory with this file is a catalog root: one catalog, checked on its own (dsl/project.py).
PROJECT_FILE = "dro.yaml"


def is_catalog_file(name: str) -> bool:
    return name.endswith(DSL_SUFFIX) or name.endswith(YAML_SUFFIXES)


def display_path(path: Path) -> str:
    """A path as users typed it: relative to the working directory when below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass
class Sources:
    """The text of every file read, by display path, for rendering source lines."""

    texts: dict[str, str] = field(default_factory=dict)
    # Each text's lines, split once: a file with thousands of diagnostics shows a line for each.
    _lines: dict[str, tuple[str, list[str]]] = field(default_factory=dict, repr=False, compare=False)

    def line(self, file: str, number: int) -> str | None:
        text = self.texts.get(file)
        if text is None:
            return None
        split = self._lines.get(file)
        if split is None or split[0] is not text:
            split = self._lines[file] = (text, text.splitlines())
        lines = split[1]
        return lines[number - 1] if 0 < number <= len(lines) else None


def find_files(root: Path) -> list[Path]:
    """The catalog files below `root`, sorted; links that lead out of it are not followed, and
    directories with a dro.yaml below it are catalogs of their own, left out."""
    real_root = root.resolve()
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not is_root(Path(folder) / d))
        for name in files:
            if not is_catalog_file(name):
                continue
            path = Path(folder) / name
            if leads_outside(path, real_root):
                continue
            found.append(path)
    return sorted(found)


def leads_outside(path: Path, real_root: Path) -> bool:
    """Whether `path`, found below a directory whose resolved path is `real_root`, is a link
    (or lies in one) to somewhere else: searching a directory never reads beyond it."""
    return not path.resolve().is_relative_to(real_root)


def is_root(directory: Path) -> bool:
    """Whether `directory` is a catalog root: it holds a dro.yaml."""
    return (directory / PROJECT_FILE).is_file()


def find_roots(directory: Path) -> list[Path]:
    """The catalog roots at or below `directory`, sorted (hidden directories are skipped)."""
    roots: list[Path] = []
    for folder, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if PROJECT_FILE in files and is_root(Path(folder)):
            roots.append(Path(folder))
    return sorted(roots)


def enclosing_root(path: Path) -> Path | None:
    """The catalog root `path` is in: the nearest directory at or above it with a dro.yaml."""
    folder = path.resolve()
    for candidate in (folder, *folder.parents):
        if is_root(candidate):
            return candidate
    return None


def collect(paths: Iterable[Path]) -> tuple[list[tuple[Path, Path]], list[Diagnostic]]:
    """(file, catalog root) for every file named or found below a named directory."""
    files: list[tuple[Path, Path]] = []
    diagnostics: list[Diagnostic] = []
    for path in paths:
        if path.is_dir():
            found = find_files(path)
            if not found:
                diagnostics.append(_no_files(path))
            files.extend((f, path) for f in found)
        elif path.is_file():
            files.append((path, path.parent))
        else:
            diagnostics.append(error(
                "DRO001", f"path '{path}' does not exist",
                hint="check the spelling; dro validate takes catalog directories and files"))
    return files, diagnostics


def read_text(path: Path, shown: str) -> tuple[str | None, Diagnostic | None]:
    """The text of a catalog or order file, or the diagnostic that says why there is none."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)  # never more: the file may be endless (/dev/zero)
    except OSError as exc:
        return None, error("DRO004", f"cannot read '{shown}': {exc.strerror}", hint="check its permissions")
    if len(data) > MAX_FILE_BYTES:
        return None, error("DRO005", f"'{shown}' is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB",
                           Span.point(shown, 1, 1),
                           detail="dro reads catalog and order files of up to "
                                  f"{MAX_FILE_BYTES:,} bytes; a larger one is most likely not one of them.",
                           hint="split a catalog into several files; an order this large is not one order")
    try:
        return data.decode("utf-8").removeprefix("\ufeff"), None
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        return None, error("DRO002", "file is not UTF-8", Span.point(shown, line, col),
                           detail=f"Byte 0x{data[exc.start]:02x} cannot start a UTF-8 character.",
                           hint="save the file as UTF-8")


def _no_files(path: Path) -> Diagnostic:
    roots = [r for r in find_roots(path) if r != path]
    if roots:
        shown = ", ".join(display_path(r) for r in roots[:4]) + (", ..." if len(roots) > 4 else "")
        return error("DRO003", f"no catalog files in '{display_path(path)}' outside its catalog roots",
                     detail=f"It holds {len(roots)} catalogs, each a directory with a {PROJECT_FILE}: {shown}.",
                     hint="name one of them; dro validate, dro test and dro fmt take the directory and "
                          "check each catalog in it")
    return error("DRO003", f"no catalog files in '{display_path(path)}'",
                 detail="A catalog is a directory of *.dro and *.dro.yaml files.",
                 hint="name a catalog directory, or a .dro / .dro.yaml file")
