"""Random mutations of the example catalogs never raise out of the compiler: only diagnostics.

Hostile input too (tests/fuzz_hostile.py, in a process of bounded memory), and every hostile
input that once failed (tests/cases/hostile/) gets its diagnostic within bounded time and memory.
"""

from __future__ import annotations

import subprocess
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
import yaml
from goldens import CATALOGS, ROOT
from helpers import assert_no_internal_error, bounded, mutate
from helpers import catalog_with as shared_catalog_with
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import Diagnostic, compile_catalog
from dsl.schemas import fast_check, validator

# Read once, so every example starts from the same text.
TEXTS = {p: p.read_text(encoding="utf-8") for p in sorted(CATALOGS.glob("*/*.dro*"))}
DSL_FILES = [p for p in TEXTS if p.name.endswith(".dro")]
YAML_FILES = [p for p in TEXTS if p.name.endswith(".dro.yaml")]
FRAGMENTS = ["{", "}", "[", "]", '"', '"""', ":", ",", "(", ")", "\n", " ", "#", "\\", "=", "@",
             "after", "within", "when", "into", "resume_on", "event", "step", "group", "lane", "plan",
             "and", "or", "not", "in", "==", "<", "exists(", "env(", "{{", "}}", "{%", "30s", "1x",
             "-1", "0", "null", "true", "\t", "é", "\x00", "type", "callout", "item.", "order"]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def catalog_with(original: Path, text: str) -> AbstractContextManager[Path]:
    """A copy of `original`'s catalog in which `original` reads `text`."""
    return shared_catalog_with(TEXTS, original, text)


def assert_only_diagnostics(catalog: Path) -> None:
    result = compile_catalog([catalog])
    assert all(isinstance(d, Diagnostic) for d in result.diagnostics)
    if result.templates is None:
        assert any(d.is_error for d in result.diagnostics)
    else:
        assert [e.message for e in validator("plan-template").iter_errors(result.templates)] == []
    for d in result.diagnostics:
        assert d.code.startswith("DRO") and d.summary
        if d.span is not None:
            assert d.span.line >= 1 and d.span.col >= 1


@st.composite
def mutated(draw: st.DrawFn, files: list[Path]) -> tuple[Path, str]:
    path = draw(st.sampled_from(files))
    text = mutate(draw, TEXTS[path], FRAGMENTS)
    return path, text


@FUZZ
@given(mutated(DSL_FILES))
def test_mutated_dsl_gives_only_diagnostics(case: tuple[Path, str]) -> None:
    path, text = case
    with catalog_with(path, text) as catalog:
        assert_only_diagnostics(catalog)


@FUZZ
@given(mutated(YAML_FILES))
def test_mutated_yaml_text_gives_only_diagnostics(case: tuple[Path, str]) -> None:
    path, text = case
    with catalog_with(path, text) as catalog:
        assert_only_diagnostics(catalog)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 700) | st.sampled_from(
        ["", "x", "30s", "1x", "item.x == 1", "{{ order.id }}", "{{", "callout", "plan", "Bad-Id"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["type", "lane", "after", "when", "step", "within", "policy", "x"]), inner, max_size=3),
    max_leaves=6)


def _places(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _places(value, (*path, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += _places(value, (*path, i))
    return found


@FUZZ
@given(st.sampled_from(YAML_FILES), st.data())
def test_structurally_mutated_yaml_gives_only_diagnostics(path: Path, data: st.DataObject) -> None:
    document = yaml.safe_load(TEXTS[path])
    for _ in range(data.draw(st.integers(1, 3))):
        places = _places(document)[1:]
        if not places:
            break
        place = data.draw(st.sampled_from(places))
        parent = document
        for key in place[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[place[-1]]
        else:
            parent[place[-1]] = data.draw(json_values)
    # The fast schema check and jsonschema must agree on near-valid documents too.
    assert fast_check("catalog")(document) == validator("catalog").is_valid(document)
    with catalog_with(path, yaml.safe_dump(document, sort_keys=False)) as catalog:
        assert_only_diagnostics(catalog)


# ---- hostile input: bounded time and memory --------------------------------------------------

HOSTILE = ROOT / "tests" / "cases" / "hostile"


def dro(*args: str) -> subprocess.CompletedProcess[str]:
    return bounded("-m", "dro_cli.main", *args)


def test_hostile_mutations_stay_within_time_and_memory() -> None:
    done = bounded(str(ROOT / "tests" / "fuzz_hostile.py"), "--examples", "40", timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "80 examples passed" in done.stdout


def _cases(kind: str) -> list[Path]:
    return sorted((HOSTILE / kind).iterdir())


@pytest.mark.parametrize("case", _cases("catalogs"), ids=lambda p: p.name)
def test_a_hostile_catalog_that_once_failed(case: Path) -> None:
    code = case.name.split("-")[0].upper()
    done = dro("validate", str(case.relative_to(ROOT)))
    assert_no_internal_error(done)
    assert done.returncode in (1, 2) and f"error[{code}]" in done.stdout, done.stdout
    if case.suffix == ".dro":
        formatted = dro("fmt", "--check", str(case.relative_to(ROOT)))
        assert_no_internal_error(formatted)
        assert formatted.returncode in (1, 2)


@pytest.mark.parametrize("case", _cases("orders"), ids=lambda p: p.name)
def test_a_hostile_order_that_once_failed(case: Path, tmp_path: Path) -> None:
    code = case.name.split("-")[0].upper()
    catalog = str(CATALOGS / "laptop")
    planned = dro("plan", str(case), "--catalog", catalog)
    assert_no_internal_error(planned)
    assert planned.returncode == 2 and f"error[{code}]" in planned.stderr, planned.stderr
    (tmp_path / "state").mkdir()  # with no orders yet: the scans of it must still work after the refusal
    state = str(tmp_path / "state")
    ran = dro("run", str(case), "--catalog", catalog, "--state-dir", state)
    assert_no_internal_error(ran)
    assert ran.returncode == 2 and f"error[{code}]" in ran.stderr
    for command in ("status", "tick"):  # nothing half-written breaks the state directory, nor the scans of it
        after = dro(command, "--state-dir", state)
        assert_no_internal_error(after)
        assert after.returncode == 0, (command, after.stderr)
