"""Time each stage of the compiler on the large generated catalog, for profiling.

    python benchmarks/stages.py [--form yaml|dro|both]

Prints seconds per stage (the collector paused, as compile_catalog does). A tool to
find where time goes, not a benchmark with a target: see run.py for those.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import WORK, catalog_files
from generate import generate

from dsl.api import load_document
from dsl.catalog import merge
from dsl.compiler import compile_templates
from dsl.graph import check_graphs
from dsl.references import check_references
from dsl.schema_check import check_document
from dsl.settings_check import check_settings
from dsl.text_check import check_text


def stages(directory: Path) -> dict[str, float]:
    times: dict[str, float] = {}

    def timed(name: str, work: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = work()
        times[name] = time.perf_counter() - start
        return result

    texts = [(path, path.read_text(encoding="utf-8")) for path in catalog_files(directory)]
    gc.disable()
    try:
        documents = timed("read and parse", lambda: [load_document(p, str(p), t)[0] for p, t in texts])
        checked = timed("schema check", lambda: [(d, check_document(d)[1]) for d in documents])
        catalog, _ = timed("merge", lambda: merge(checked))
        timed("references and graphs", lambda: [*check_references(catalog), *check_graphs(catalog)])
        timed("settings", lambda: list(check_settings(catalog)))
        timed("expressions and templates", lambda: list(check_text(catalog)))
        timed("compile to templates", lambda: compile_templates(catalog, directory))
    finally:
        gc.enable()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--form", choices=["yaml", "dro", "both"], default="both")
    forms = ["yaml", "dro"] if parser.parse_args().form == "both" else [parser.parse_args().form]
    for form in forms:
        out = WORK / f"stages-{form}"
        generate(out, form=form)
        times = stages(out)
        print(f"{form}: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in times.items())
              + f"; total {sum(times.values()):.2f} s")


if __name__ == "__main__":
    main()
