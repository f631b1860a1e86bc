"""The documentation names every diagnostic code, and the README's commands are the ones CI runs."""

from __future__ import annotations

import re

from goldens import ROOT

from dsl.codes import CODES

LANGUAGE = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")


def test_every_code_has_a_section_with_its_title() -> None:
    sections = dict(re.findall(r"^### (DRO\d{3}) (.+)$", LANGUAGE, re.MULTILINE))
    assert sections == CODES


def test_every_code_section_shows_a_bad_example_and_a_fix() -> None:
    parts = re.split(r"^### (DRO\d{3}) .+$", LANGUAGE, flags=re.MULTILINE)
    bodies = dict(zip(parts[1::2], parts[2::2], strict=True))
    thin = [code for code, body in bodies.items()
            if code not in ("DRO001", "DRO003", "DRO004") and ("```" not in body or "ix" not in body)]
    assert thin == []


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "python -m pytest" in readme.split("Run the tests:")[1].split("```")[1]
    assert ".venv/bin/python -m pytest" in ci
