"""`dro fmt` never changes meaning: every sample .dro file, and random mutations of them.

For each text: formatting is idempotent, keeps every token (but optional commas and empty
braces) and every comment, and the catalog compiles to the same plan templates (source
positions aside) or fails with the same diagnostic codes. Layout mutations that keep the
blank lines and comments where they were must format to exactly what the original does.
"""

from __future__ import annotations

import collections
import random
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from goldens import CATALOGS, ROOT
from helpers import catalog_with as shared_catalog_with
from helpers import mutate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import compile_catalog
from dsl.formatter import format_text, normalize, parse, signature

VALID_CASES = ROOT / "tests" / "cases" / "valid"
FILES = sorted(CATALOGS.glob("*/*.dro")) + sorted(VALID_CASES.glob("*.dro"))
# Read once, so every example starts from the same text; siblings make up each file's catalog.
TEXTS = {p: p.read_text(encoding="utf-8") for p in sorted(CATALOGS.glob("*/*.dro*")) + FILES}
FRAGMENTS = ["{", "}", "[", "]", '"', '"""', ":", ",", "(", ")", "\n", " ", "#", "# note", "\\", "\t", "\r\n",
             "after", "within", "when", "into", "resume_on", "event", "step", "group", "lane", "plan", "and",
             "or", "not", "in", "==", "exists(", "env(", "30s", "-1", "null", "true", "type", "item.", "é"]
PROPERTIES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PUNCTUATION = frozenset("{}[](),:.")


def fmt(text: str) -> str:
    formatted, diagnostics = format_text(text, "t.dro")
    assert formatted is not None, diagnostics
    return formatted


def kept(text: str) -> tuple[list[str], collections.Counter[str]]:
    """The tokens (but optional commas and empty braces) and the comment texts."""
    parsed = parse(normalize(text))
    assert parsed is not None
    return signature(parsed.tokens, parsed.comments)


def catalog_with(original: Path, text: str) -> AbstractContextManager[Path]:
    """A copy of `original`'s catalog in which `original` reads `text`."""
    return shared_catalog_with(TEXTS, original, text)


def meaning(original: Path, text: str) -> tuple[Any, list[str]]:
    """The plan templates without source positions (None if they do not compile), and the diagnostic codes."""
    with catalog_with(original, text) as catalog:
        result = compile_catalog([catalog])
    templates = None if result.templates is None else {k: v for k, v in result.templates.items() if k != "sources"}
    return templates, sorted(d.code for d in result.diagnostics)


def assert_keeps_meaning(path: Path, text: str) -> str:
    formatted = fmt(text)
    assert fmt(formatted) == formatted
    assert kept(formatted) == kept(text)
    # Line ends become \n everywhere, also inside """ strings: compare with that done.
    assert meaning(path, formatted) == meaning(path, normalize(text))
    return formatted


# ---- the sample files ----------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_sample_file_formats_without_changing_meaning(path: Path) -> None:
    formatted = assert_keeps_meaning(path, TEXTS[path])
    templates, _ = meaning(path, formatted)
    assert templates is not None, "the samples compile"


def test_the_compared_meaning_would_notice_a_change() -> None:
    path = CATALOGS / "laptop" / "laptop.dro"
    changed = TEXTS[path].replace("8h", "9h", 1)
    assert changed != TEXTS[path]
    assert meaning(path, changed) != meaning(path, TEXTS[path])


# ---- layout mutations ------------------------------------------------------------------------


class Relayout:
    """A file's tokens and comments laid out again at random, commas in maps added or dropped."""

    def __init__(self, text: str) -> None:
        parsed = parse(text)
        assert parsed is not None
        self.text = text
        self.items = sorted([(_at(t.start_pos), _at(t.end_pos), str(t), t.type) for t in parsed.tokens]
                            + [(_at(c.start_pos), _at(c.end_pos), str(c).rstrip(), "COMMENT")
                               for c in parsed.comments])
        self.optional_commas, self.comma_slots = _optional_commas(parsed.tree)

    def build(self, rnd: random.Random, extras: bool) -> str:
        """With `extras`, also comments and blank lines where there were none."""
        out: list[str] = []
        for i, (start, end, text, _) in enumerate(self.items):
            if start in self.optional_commas and rnd.random() < 0.5:
                continue
            if i:
                out.append(self._gap(rnd, i, extras, out[-1] if out else ""))
            out.append(text)
            if end in self.comma_slots and rnd.random() < 0.3:
                out.append(",")
        return "".join(out)

    def _gap(self, rnd: random.Random, i: int, extras: bool, before: str) -> str:
        """Whitespace between items i-1 and i, keeping blank lines, and comments on their own line or not."""
        previous, current = self.items[i - 1], self.items[i]
        original = self.text[previous[1]:current[0]]
        indent = rnd.choice(["", " ", "  ", "    ", "\t", " " * rnd.randint(1, 12)])
        gap: str
        if original.count("\n") >= 2:
            gap = "\n\n" + indent
        elif current[3] == "COMMENT":
            gap = "\n" + indent if "\n" in original else " " * rnd.randint(1, 3)
        elif before.startswith("#"):
            gap = "\n" + indent
        else:
            tight = current[2] in PUNCTUATION or before in PUNCTUATION
            gap = rnd.choice(["", " ", "   ", "\n" + indent, "\t"] if tight else [" ", "   ", "\n" + indent, "\t"])
        if extras and current[3] != "COMMENT" and rnd.random() < 0.08:
            comment = f"# hypothesis {rnd.randint(0, 999)}"
            own_line = [f"\n{indent}{comment}\n{indent}", f"\n\n{comment}\n\n"]
            gap = rnd.choice(own_line if before.startswith("#") else [f" {comment}\n{indent}", *own_line])
        if extras and rnd.random() < 0.03:
            gap = "\n\n" + indent
        return gap


def _at(position: int | None) -> int:
    return position or 0


def _optional_commas(tree: Any) -> tuple[set[int], set[int]]:
    """Where commas may go or come: starts of commas in maps and trailing list commas; ends of map entries."""
    from lark import Token, Tree

    removable: set[int] = set()
    slots: set[int] = set()
    for node in tree.iter_subtrees():
        children = node.children
        for i, child in enumerate(children):
            following = children[i + 1] if i + 1 < len(children) else None
            is_comma = isinstance(child, Token) and child.type == "COMMA"
            closes = isinstance(following, Token) and following.type in ("RSQB", "RBRACE")
            if is_comma and (node.data in ("map_value", "into_map") or closes):
                removable.add(_at(child.start_pos))
            entry_ends = (node.data == "map_value" and isinstance(child, Tree)) or (
                node.data == "into_map" and isinstance(child, Tree) and i >= 2)
            if entry_ends and not (isinstance(following, Token) and following.type == "COMMA"):
                slots.add(child.meta.end_pos)
    return removable, slots


RELAYOUTS = {p: Relayout(TEXTS[p]) for p in FILES}


@settings(PROPERTIES, max_examples=120)
@given(st.sampled_from(FILES), st.integers(0, 2**32))
def test_layout_does_not_matter(path: Path, seed: int) -> None:
    mutant = RELAYOUTS[path].build(random.Random(seed), extras=False)
    assert fmt(mutant) == fmt(TEXTS[path])


@PROPERTIES
@given(st.sampled_from(FILES), st.integers(0, 2**32))
def test_added_comments_and_blank_lines_keep_meaning(path: Path, seed: int) -> None:
    mutant = RELAYOUTS[path].build(random.Random(seed), extras=True)
    assert_keeps_meaning(path, mutant)


def test_the_relayouts_do_change_the_layout() -> None:
    path = CATALOGS / "fiber" / "fiber.dro"
    plain, extra = (RELAYOUTS[path].build(random.Random(1), extras) for extras in (False, True))
    assert plain != TEXTS[path] and fmt(plain) == fmt(TEXTS[path])
    assert "# hypothesis" in extra and fmt(extra) != fmt(TEXTS[path])


# ---- text mutations ------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn) -> tuple[Path, str]:
    path = draw(st.sampled_from(FILES))
    return path, mutate(draw, TEXTS[path], FRAGMENTS)


@settings(PROPERTIES, max_examples=120)
@given(mutated())
def test_whatever_parses_formats_without_changing_meaning(case: tuple[Path, str]) -> None:
    path, text = case
    formatted, diagnostics = format_text(text, "t.dro")
    if formatted is None:
        assert diagnostics and all(d.is_error and d.code.startswith("DRO1") for d in diagnostics)
        return
    assert_keeps_meaning(path, text)
