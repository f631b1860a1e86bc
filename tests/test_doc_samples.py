"""docs/sla-and-fallout.md shows what its commands print: its "Try it" session runs for real (tests/doc_samples.py),
and every sample block on the page is that run's output. Regenerate with `python tests/regen_goldens.py`."""

from __future__ import annotations

import pytest
from doc_samples import PAGE, SAMPLES, SESSION, expected_page, marked_names, run_session, sample_block


@pytest.fixture(scope="module")
def outputs() -> dict[str, str]:
    return run_session()


def test_every_sample_on_the_page_is_what_its_command_printed(outputs: dict[str, str]) -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert page == expected_page(page, outputs), "the page's samples are stale: run python tests/regen_goldens.py"


def test_the_page_marks_the_session_and_every_sample_once() -> None:
    assert sorted(marked_names(PAGE.read_text(encoding="utf-8"))) == sorted(["try-it", *SAMPLES])


def test_the_session_ran_as_the_page_says(outputs: dict[str, str]) -> None:
    assert set(outputs) == {step.name for step in SESSION}
    assert outputs["retry"] == "ORD-1001: in_progress, 3/8 steps finished\n"  # the retry got past its failure
    assert "fell out to queue inventory_fallout" in outputs["tick-3"]
    assert "127.0.0.1:8091" in sample_block("fallout", outputs)  # the port as the page shows it


def test_a_stale_sample_is_caught(outputs: dict[str, str]) -> None:
    page = PAGE.read_text(encoding="utf-8")
    stale = page.replace("1 step in fallout (inventory_fallout: 1)", "2 steps in fallout (inventory_fallout: 2)")
    assert stale != page and expected_page(stale, outputs) == page
