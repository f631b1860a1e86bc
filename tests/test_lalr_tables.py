"""dsl.lalr_tables: lark's tables without lark give the very trees lark gives, and a bad cache is no error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dsl import lalr_tables, parse_loops, parser

ROOT = Path(__file__).resolve().parents[1]
CATALOG_FILES = sorted((ROOT / "catalogs").rglob("*.dro"))


def _with_lark(text: str, start: str) -> object:
    with parser._parsing("c.dro", None) as builder:
        return parse_loops.lark_parser(builder).parse(text, start=start), builder.diagnostics


def _without_lark(text: str, start: str) -> object:
    with parser._parsing("c.dro", None) as builder:
        tables = parse_loops.tables(builder)
        assert tables is not None
        return tables.parse(text, start), builder.diagnostics


@pytest.mark.parametrize("path", CATALOG_FILES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_trees_are_lark_s(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert _without_lark(text, "start") == _with_lark(text, "start")


@pytest.mark.parametrize("text", ["a == 1 and not b.c in [1, 2]", 'f(x, "y") != null', "(a or b) and c[0] > 2.5"])
def test_expressions_are_lark_s(text: str) -> None:
    assert _without_lark(text, "expression") == _with_lark(text, "expression")


@pytest.mark.parametrize("text", ['lane a "A" {', "lane a @", "step x { when }", ""])
def test_text_that_does_not_parse_is_left_to_lark(text: str) -> None:
    with parser._parsing("c.dro", None) as builder:
        tables = parse_loops.tables(builder)
        assert tables is not None
        if text:
            with pytest.raises(lalr_tables.Unparsed):
                tables.parse(text, "start")
        else:
            assert tables.parse(text, "start") == []


@pytest.mark.parametrize("cache", [b"", b"not marshal data", b"\xe9" * 40])
def test_a_bad_cache_is_rebuilt(tmp_path: Path, cache: bytes) -> None:
    key = lalr_tables._key()
    (tmp_path / lalr_tables._cache_file(key).name).write_bytes(cache)
    source = tmp_path / "lanes.dro"
    source.write_text('lane billing "Billing"\nlane b @\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "dro_cli.main", "validate", str(source)], capture_output=True,
                          text=True, timeout=60, env=dict(os.environ, TMPDIR=str(tmp_path), NO_COLOR="1"))
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "lanes.dro:2:8" in done.stdout
    again = subprocess.run([sys.executable, "-m", "dro_cli.main", "validate", str(source)], capture_output=True,
                           text=True, timeout=60, env=dict(os.environ, TMPDIR=str(tmp_path), NO_COLOR="1"))
    assert again.stdout == done.stdout
