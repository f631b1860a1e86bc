"""The documentation names every diagnostic code, and the README's commands are the ones CI runs."""

from __future__ import annotations

import re

from goldens import ROOT

from dsl.codes import CODES

# Catalog codes are documented in the language reference, order codes in the order reference,
# test file codes in the testing reference.
CODE_DOCS = {name: (ROOT / "docs" / name).read_text(encoding="utf-8")
             for name in ("language.md", "orders.md", "testing.md")}


def _sections(text: str) -> list[tuple[str, str]]:
    return re.findall(r"^### (DRO\d{3}) (.+)$", text, re.MULTILINE)


def test_every_code_has_one_section_with_its_title() -> None:
    found = [section for text in CODE_DOCS.values() for section in _sections(text)]
    codes = [code for code, _ in found]
    assert sorted(c for c in codes if codes.count(c) > 1) == []
    assert dict(found) == CODES


def test_the_order_reference_documents_only_order_and_runtime_codes() -> None:
    assert [code for code, _ in _sections(CODE_DOCS["orders.md"]) if not code.startswith("DRO5")] == []
    assert [code for code, _ in _sections(CODE_DOCS["testing.md"]) if not code.startswith("DRO6")] == []


def test_every_code_section_shows_a_bad_example_and_a_fix() -> None:
    bodies: dict[str, str] = {}
    for text in CODE_DOCS.values():
        parts = re.split(r"^### (DRO\d{3}) .+$", text, flags=re.MULTILINE)
        bodies.update(zip(parts[1::2], parts[2::2], strict=True))
    thin = [code for code, body in bodies.items()
            if code not in ("DRO001", "DRO003", "DRO004") and ("```" not in body or "ix" not in body)]
    assert thin == []


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest" in readme.split("Run the tests:")[1].split("```")[1]
    assert ".venv/bin/python -m pytest" in ci


def test_the_performance_page_is_its_template_with_one_runs_figures() -> None:
    """docs/performance.md is written by `python benchmarks/run.py --write-docs` from benchmarks/performance.md:
    its prose is the template's, word for word, and its figures are a run's, with the commit they were
    measured at. Edit the template and run the command; never the page."""
    template = (ROOT / "benchmarks" / "performance.md").read_text(encoding="utf-8")
    header, _, page = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8").partition("\n")
    assert "python benchmarks/run.py --write-docs" in header
    before, after = template.split("<!-- figures -->")
    assert page.startswith(before), "docs/performance.md was edited by hand, or the template changed since the run"
    assert page.endswith(after), "docs/performance.md was edited by hand, or the template changed since the run"
    figures = page[len(before):len(page) - len(after)]
    assert re.search(r"Measured at commit `[0-9a-f]{12}`", figures)
    assert "| Benchmark | Figure | Baseline | Ratio | Target | Result |" in figures
