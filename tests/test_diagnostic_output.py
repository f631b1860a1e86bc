"""Diagnostics output grows with the number of problems, not with their number times the line's length.

Before: each diagnostic reprinted its whole source line, so an 84 KB one-line JSON order with
2,000 duplicate item ids wrote 253 MB to stderr. Now a long line is shown as a window around
the caret (output/reporters/excerpt.py) and a kind repeated in a file is shown ten times and
then counted (output/reporters/repeats.py); machine formats keep every diagnostic.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from helpers import assert_no_internal_error, bounded
from hypothesis import given
from hypothesis import strategies as st

from dro_cli.output.reporters.excerpt import CLIPPED, WIDTH, excerpt
from dro_cli.output.reporters.repeats import PER_KIND

ROOT = Path(__file__).resolve().parent.parent
DUPLICATES = 2_000


def one_line_order(path: Path) -> Path:
    """The issue's order: one line of JSON, the id L1 on 2,001 items (2,000 of them duplicates)."""
    item = {"id": "L1", "product": "LAPTOP-BUNDLE", "quantity": 1}
    path.write_text(json.dumps({"order": {"id": "ORD-9", "account": "A", "items": [item] * (DUPLICATES + 1)}}))
    return path


def test_a_one_line_order_with_thousands_of_duplicates_says_so_briefly(tmp_path: Path) -> None:
    order = one_line_order(tmp_path / "big.json")
    assert order.stat().st_size > 80_000
    done = bounded("-m", "dro_cli.main", "plan", str(order), "--catalog", str(ROOT / "catalogs" / "laptop"))
    assert_no_internal_error(done)
    assert done.returncode == 2
    assert len(done.stderr) < 10_000, len(done.stderr)  # 253 MB before
    assert done.stderr.count("error[DRO501]: duplicate item id 'L1'") == PER_KIND
    assert f"... and {DUPLICATES - PER_KIND:,} more DRO501 in {order}" in done.stderr
    # every excerpt is a window of the line with its caret under the id that is repeated
    blocks = re.findall(r"^1 \| (.*)\n *\| ( *)(\^+)$", done.stderr, re.MULTILINE)
    assert len(blocks) == PER_KIND
    for text, before, carets in blocks:
        assert len(text) <= WIDTH + 2 * len(CLIPPED)
        assert text[len(before):len(before) + len(carets)] == '"L1"'


def test_machine_formats_keep_every_diagnostic(tmp_path: Path) -> None:
    catalog = tmp_path / "c.dro"
    steps = "".join(f'step s{i} "S" {{\n  type manual\n}}\n' for i in range(25))
    catalog.write_text(f'lane a "A"\n{steps}')
    as_json = bounded("-m", "dro_cli.main", "validate", str(catalog), "--format", "json")
    codes = [d["code"] for d in json.loads(as_json.stdout)["diagnostics"]]
    assert codes.count("DRO109") == 25
    as_text = bounded("-m", "dro_cli.main", "validate", str(catalog))
    assert as_text.stdout.count("error[DRO109]") == PER_KIND
    assert f"... and 15 more DRO109 in {catalog}" in as_text.stdout
    assert "Found 25 errors" in as_text.stdout  # the summary counts them all
    as_github = bounded("-m", "dro_cli.main", "validate", str(catalog), "--format", "github")
    assert as_github.stdout.count("::error ") == PER_KIND
    assert "::notice title=DRO109::... and 15 more DRO109" in as_github.stdout


def test_a_short_line_is_shown_whole() -> None:
    shown = excerpt("lane     shiping", 10, 17)
    assert (shown.text, shown.caret_at, shown.caret_width) == ("lane     shiping", 9, 7)


def test_tabs_are_expanded_and_the_caret_follows() -> None:
    shown = excerpt("\tlane\tx", 7, 8)
    assert shown.text == "    lane    x" and shown.text[shown.caret_at] == "x"


@given(st.text(alphabet="ab \t{}\"", max_size=600), st.integers(1, 700), st.integers(0, 40))
def test_the_caret_points_at_the_span_in_any_window(line: str, col: int, length: int) -> None:
    shown = excerpt(line, col, col + length)
    assert len(shown.text) <= max(WIDTH, len(line.expandtabs(4))) + 2 * len(CLIPPED)
    assert shown.caret_width >= 1
    start = min(col - 1, len(line))
    if "\t" not in line and length and start + length <= len(line):
        visible = shown.text[shown.caret_at:shown.caret_at + shown.caret_width]
        assert line[start:start + length].startswith(visible)
        assert visible  # the start of the span is always in the window
