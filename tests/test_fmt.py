"""`dro fmt`: the canonical layout rule by rule, and the command's files, output and exit codes.

Every expected text here is written by hand. Invariants over the sample catalogs and
random mutations are in test_fmt_properties.py.
"""

from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

from click.testing import CliRunner
from goldens import CATALOGS, ROOT

from dro_cli.main import cli
from dsl.formatter import format_text
from dsl.parser import parse_file


def fmt(text: str) -> str:
    formatted, diagnostics = format_text(text, "t.dro")
    assert formatted is not None, diagnostics
    return formatted


def assert_formats(source: str, expected: str) -> None:
    assert fmt(source) == expected
    assert fmt(expected) == expected  # the canonical form is a fixed point


# ---- the example of DESIGN.md 3.1 ------------------------------------------------------

DESIGN_EXAMPLE = '''\
lane inventory "Inventory"
lane shipping  "Shipping"
lane billing   "Billing"
lane field     "Field service"

endpoint wms "Warehouse management" {
  url     env("WMS_URL", "http://127.0.0.1:8081")
  timeout 10s
}

decompose "LAPTOP-BUNDLE" {
  into "LAPTOP-HW"
  into "OS-LICENSE"
  into "ONSITE-SETUP" when item.attributes.onsite_setup == true
}

group laptop_delivery "Laptop delivery" {

  step credit_check "Credit check" {
    type         manual
    lane         billing
    scope        plan
    queue        credit_team
    duration     8h
    jeopardy     2h
    instructions "Run a credit check for account {{ order.account }}"
  }

  step reserve "Reserve the laptop" {
    type     callout
    lane     inventory
    scope    line_item
    after    credit_check
    run_as   "integration@acme"
    endpoint wms
    method   POST
    path     "/reservations"
    body     { sku: "{{ item.product }}", quantity: "{{ item.quantity }}" }
    expect   [200, 201]
    capture  { reservation_id: "id" }
    duration 4h
    jeopardy 1h
    retry    { policy: monotonous, retries: 3, interval: 30s }
  }

  step install "On-site installation" {
    type  manual
    lane  field
    scope bundle
    after reserve
    when  bundle.attributes.onsite_setup == true
    queue installers
  }

  step wait_work_order "Wait for the work order" {
    type      pause
    lane      field
    scope     bundle
    after     install
    resume_on event "work_order.completed"
  }

  step start_billing "Start billing" {
    type  auto
    lane  billing
    scope plan
    after [reserve within plan, wait_work_order]
    flow  "acme_flows:start_billing"
  }

  step delivered "Order delivered" {
    type  milestone
    lane  shipping
    scope plan
    after [reserve, start_billing]
  }
}

scenario laptop "Laptop bundle" {
  when item.product == "LAPTOP-HW"
  add  laptop_delivery
}

jeopardy_rule callouts {
  match    { type: callout }
  duration 4h
  jeopardy 30m
}

fallout_rule wms_down {
  match     { type: callout, endpoint: wms, error: "http_503" }
  policy    staggered
  intervals [10s, 1m, 5m]
  queue     inventory_fallout
}
'''


def test_the_design_example_is_canonical_but_for_the_blank_line_inside_its_group() -> None:
    expected = DESIGN_EXAMPLE.replace('"Laptop delivery" {\n\n', '"Laptop delivery" {\n')
    assert expected != DESIGN_EXAMPLE
    assert_formats(DESIGN_EXAMPLE, expected)


# ---- indentation, one item per line, alignment -------------------------------------------


def test_items_on_one_line_are_split_indented_and_aligned() -> None:
    assert_formats(
        'group g { step s "S" { type manual instructions "x" } }\n',
        'group g {\n  step s "S" {\n    type         manual\n    instructions "x"\n  }\n}\n')


def test_indentation_is_rebuilt_from_nesting() -> None:
    assert_formats(
        'group g {\n        step s "S" {\n type auto\n              }\n   }\n',
        'group g {\n  step s "S" {\n    type auto\n  }\n}\n')


def test_phrases_align_by_their_keyword() -> None:
    assert_formats(
        'scenario s {\n  when item.product == "X"\n  add laptop\n}\n'
        'step w { resume_on event "e" after install }\n',
        'scenario s {\n  when item.product == "X"\n  add  laptop\n}\n\n'
        'step w {\n  resume_on event "e"\n  after     install\n}\n')


def test_a_blank_line_a_comment_line_or_a_multi_line_item_breaks_a_run() -> None:
    source = ("endpoint e {\n  url 1\n  timeout 2\n\n  headers 3\n  # about auth\n  auth 4\n  body 5\n"
              '  instructions """\n  x\n  """\n  queue 6\n  ab 7\n}\n')
    expected = ("endpoint e {\n  url     1\n  timeout 2\n\n  headers 3\n  # about auth\n  auth 4\n  body 5\n"
                '  instructions """\n  x\n  """\n  queue 6\n  ab    7\n}\n')
    assert_formats(source, expected)


def test_a_nested_block_breaks_a_run() -> None:
    assert_formats(
        'group g {\n  description "D"\n  step a "A"\n  x 1\n  longer 2\n}\n',
        'group g {\n  description "D"\n  step a "A"\n  x      1\n  longer 2\n}\n')


def test_a_multi_line_list_leaves_the_run_around_it() -> None:
    long_list = "[" + ", ".join(f'"element-{i:02}"' for i in range(8)) + "]"
    source = f"step s {{\n  type auto\n  command {long_list}\n  timeout 2m\n  queue q\n}}\n"
    elements = "".join(f'    "element-{i:02}",\n' for i in range(8))
    expected = f"step s {{\n  type auto\n  command [\n{elements}  ]\n  timeout 2m\n  queue   q\n}}\n"
    assert_formats(source, expected)


def test_top_level_one_line_blocks_of_one_kind_align_their_titles() -> None:
    assert_formats(
        'lane inventory "Inventory"\nlane shipping "Shipping"\nlane x\nendpoint e "E"\nlane ab "AB"\nlane abc "ABC"\n',
        'lane inventory "Inventory"\nlane shipping  "Shipping"\nlane x\nendpoint e "E"\nlane ab  "AB"\n'
        'lane abc "ABC"\n')


# ---- blank lines -------------------------------------------------------------------------


def test_blank_lines_collapse_and_never_open_or_close_a_body_or_the_file() -> None:
    assert_formats(
        '\n\n\nlane a "A"\n\n\n\nlane b "B"\ngroup g {\n\n\n  description "D"\n\n\n\n  title2 "T"\n\n}\n\n\n',
        'lane a "A"\n\nlane b "B"\n\ngroup g {\n  description "D"\n\n  title2 "T"\n}\n')


def test_a_block_with_a_body_stands_apart_by_one_blank_line() -> None:
    assert_formats(
        'lane a "A" { description "x" }\nlane b "B"\nlane c "C" {\n  description "y"\n}\n'
        'group g {\n  step s "S" { type auto }\n  step t "T" { type auto }\n  description "D"\n}\n',
        'lane a "A" {\n  description "x"\n}\n\nlane b "B"\n\nlane c "C" {\n  description "y"\n}\n\n'
        'group g {\n  step s "S" {\n    type auto\n  }\n\n  step t "T" {\n    type auto\n  }\n\n'
        '  description "D"\n}\n')


def test_the_blank_line_before_a_block_goes_above_its_comments() -> None:
    assert_formats(
        'lane a "A"\n# about g\ngroup g {\n  x 1\n}\n',
        'lane a "A"\n\n# about g\ngroup g {\n  x 1\n}\n')


# ---- comments ----------------------------------------------------------------------------


def test_comments_keep_their_text_and_place() -> None:
    source = (
        "# head\n\n"
        "lane a   \"A\"   # end of a line, two spaces before it   \n"
        "group g {    # after the brace\n"
        "      # above the step, at its indentation\n"
        "  step s \"S\" {\n"
        "    type manual\n"
        "          # before the closing brace\n"
        "  }\n"
        "}\n"
        "   # end of the file\n")
    expected = (
        "# head\n\n"
        "lane a \"A\"  # end of a line, two spaces before it\n\n"
        "group g {  # after the brace\n"
        "  # above the step, at its indentation\n"
        "  step s \"S\" {\n"
        "    type manual\n"
        "    # before the closing brace\n"
        "  }\n"
        "}\n"
        "# end of the file\n")
    assert_formats(source, expected)


def test_a_comment_after_a_multi_line_item_stays_on_its_last_line() -> None:
    source = 'step s {\n  instructions """\n    x\n    """ # done\n  body { a: 1 } # small\n}\n'
    expected = 'step s {\n  instructions """\n    x\n    """  # done\n  body { a: 1 }  # small\n}\n'
    assert_formats(source, expected)


def test_comments_inside_a_list_or_map_stay_with_their_element() -> None:
    assert_formats(
        "step s {\n  add [a, # first\n  b]\n  body { x: 1\n  # about y\n  y: 2 }\n}\n",
        "step s {\n  add [\n    a,  # first\n    b,\n  ]\n  body {\n    x: 1\n    # about y\n    y: 2\n  }\n}\n")


def test_a_comment_after_an_opening_bracket_stays_there() -> None:
    assert_formats(
        "step s {\n  add [ # groups\n  a, b ]\n  m { # nothing yet\n  }\n}\n",
        "step s {\n  add [  # groups\n    a,\n    b,\n  ]\n  m {  # nothing yet\n  }\n}\n")


def test_comments_without_a_place_of_their_own_move_above_the_item() -> None:
    source = ("scenario s {\n  when a == 1 or  # first\n       b == 2     # second\n"
              "  add x\n  url env( # inside a call\n  \"X\")\n}\n")
    expected = ("scenario s {\n  # first\n  when a == 1 or b == 2  # second\n  add  x\n"
                "  # inside a call\n  url env(\"X\")\n}\n")
    assert_formats(source, expected)


def test_a_comment_inside_a_block_header_moves_above_the_block() -> None:
    assert_formats('group g # the group\n "G" {\n  x 1\n}\n', '# the group\ngroup g "G" {\n  x 1\n}\n')


def test_comments_keep_an_otherwise_empty_body() -> None:
    assert_formats('lane a "A" {\n  # soon\n}\n', 'lane a "A" {\n  # soon\n}\n')


# ---- values --------------------------------------------------------------------------------


def test_values_keep_their_source_text() -> None:
    source = ('step s {\n  a "x\\u0041\\"y"\n  b -1.50\n  c 1.5h\n  d null\n  e TRUE_ISH\n'
              '  f """\n   kept\n\tas is\n"""\n}\n')
    assert_formats(source.replace("\n  ", "\n      ", 3), source)


def test_lists_maps_and_calls_on_one_line() -> None:
    assert_formats(
        'step s {\n  a [ 1 ,2, ]\n  b {x:1 y : "2",}\n  c {  }\n  d [ ]\n  e env( "X" ,"d" )\n'
        '  f { "k-1": [a,b], g: { h: 1 } }\n}\n',
        'step s {\n  a [1, 2]\n  b { x: 1, y: "2" }\n  c {}\n  d []\n  e env("X", "d")\n'
        '  f { "k-1": [a, b], g: { h: 1 } }\n}\n')


def test_a_list_goes_multi_line_past_100_columns_whatever_the_source_breaks() -> None:
    # `  add [` + three 20-letter names with their ", " + a last name + `]`: 74 columns + the last name.
    fits, too_long = (["a" * 20] * 3 + ["b" * n] for n in (26, 27))
    one_line = "scenario s {\n  add [" + ", ".join(fits) + "]\n}\n"
    assert len(one_line.splitlines()[1]) == 100
    assert_formats("scenario s {\n  add [\n" + ",\n".join(fits) + "\n]\n}\n", one_line)
    multi = "scenario s {\n  add [\n" + "".join(f"    {e},\n" for e in too_long) + "  ]\n}\n"
    assert_formats("scenario s {\n  add [" + ", ".join(too_long) + "]\n}\n", multi)


def test_a_map_goes_multi_line_without_commas_and_aligns_its_keys() -> None:
    source = ('step s {\n  body { reference: "' + "r" * 40 + '", sku: "' + "s" * 40
              + '", nested: { a: 1 } }\n}\n')
    expected = ('step s {\n  body {\n    reference: "' + "r" * 40 + '"\n    sku:       "' + "s" * 40
                + '"\n    nested:    { a: 1 }\n  }\n}\n')
    assert_formats(source, expected)


def test_a_list_holding_a_multi_line_element_goes_multi_line() -> None:
    assert_formats(
        'step s {\n  a ["x", """\n  y\n  """]\n}\n',
        'step s {\n  a [\n    "x",\n    """\n  y\n  """,\n  ]\n}\n')


def test_a_map_holding_a_multi_line_map_goes_multi_line() -> None:
    assert_formats(
        "step s {\n  a { b: { c: 1 # why\n  } }\n}\n",
        "step s {\n  a {\n    b: {\n      c: 1  # why\n    }\n  }\n}\n")


# ---- expressions and phrases -----------------------------------------------------------------


def test_expressions_get_single_spaces_around_operators_and_none_inside_brackets() -> None:
    assert_formats(
        'scenario s {\n  when not(item.a [ "c-d" ]==1)and  item . b   not   in[ 1 ,2 ]or exists( item.c )\n}\n',
        'scenario s {\n  when not (item.a["c-d"] == 1) and item.b not in [1, 2] or exists(item.c)\n}\n')


def test_expressions_keep_the_users_parentheses() -> None:
    assert_formats(
        "scenario s {\n  when ((a == 1)) or (b < 2 and c >= 3)\n}\n",
        "scenario s {\n  when ((a == 1)) or (b < 2 and c >= 3)\n}\n")


def test_after_into_and_resume_on() -> None:
    assert_formats(
        'step s {\n  after [ a within   plan ,b ]\n  resume_on   event   "e"\n}\n'
        'decompose "P" {\n  into "A"   when item.x==1   {quantity 2 attributes {a: item.a b: 1,}}\n  into "B"\n}\n',
        'step s {\n  after     [a within plan, b]\n  resume_on event "e"\n}\n\n'
        'decompose "P" {\n  into "A" when item.x == 1 {\n    quantity   2\n    attributes { a: item.a, b: 1 }\n'
        '  }\n  into "B"\n}\n')


def test_a_long_into_map_goes_multi_line() -> None:
    names = [f"attribute_{i}" for i in range(5)]
    attributes = " ".join(f"{n}: item.{n}" for n in names)
    source = 'decompose "P" {\n  into "A" {\n    attributes {' + attributes + "}\n  }\n}\n"
    entries = "".join(f"      {n}: item.{n}\n" for n in names)
    assert_formats(source, 'decompose "P" {\n  into "A" {\n    attributes {\n' + entries + "    }\n  }\n}\n")


# ---- empty bodies --------------------------------------------------------------------------


def test_empty_bodies_lose_their_braces_where_the_grammar_allows() -> None:
    assert_formats(
        'lane a "A" { }\nlane b {}\ngroup g {\n  step s "S" {}\n  step t {  }\n}\n'
        'decompose "P" {\n  into "A" {}\n}\n',
        'lane a "A"\nlane b\n\ngroup g {\n  step s "S"\n  step t {}\n}\n\ndecompose "P" {\n  into "A"\n}\n')


def test_an_empty_file_stays_empty() -> None:
    assert fmt("") == ""
    assert fmt("\n\n  \n") == ""
    assert fmt("# only a comment") == "# only a comment\n"


# ---- line ends, byte order mark, tabs ------------------------------------------------------


def test_crlf_bom_and_tabs_become_lf_and_spaces() -> None:
    assert_formats('\ufeff# c\r\ngroup g {\r\n\tstep s "S" {\r\n\t\ttype\tauto\r\n\t}\r\n}',
                   '# c\ngroup g {\n  step s "S" {\n    type auto\n  }\n}\n')


# ---- text that does not parse ------------------------------------------------------------------


def test_a_syntax_error_gives_the_diagnostic_validate_gives() -> None:
    text = 'lane a "A"\ngroup g {\n  step s "S" {\n    type = auto\n  }\n}\n'
    formatted, diagnostics = format_text(text, "t.dro")
    _, expected = parse_file("t.dro", text)
    assert formatted is None
    assert diagnostics == expected and diagnostics[0].code == "DRO104"
    assert (diagnostics[0].span.line, diagnostics[0].span.col) == (4, 10)  # type: ignore[union-attr]


def test_what_the_compiler_does_not_parse_is_not_formatted() -> None:
    # lark's own lexer would read `not inx` as `not in x`; the compiler reads a name `inx`.
    text = 'scenario s {\n  when item.product not inx\n  add g\n}\n'
    formatted, diagnostics = format_text(text, "t.dro")
    assert formatted is None and diagnostics == parse_file("t.dro", text)[1] and diagnostics


# ---- the command ---------------------------------------------------------------------------------

UGLY = 'lane a   "A"\nlane bb "B"\n'
PRETTY = 'lane a  "A"\nlane bb "B"\n'


def run(*args: str, stdin: str | bytes | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return CliRunner(env={"NO_COLOR": "1", **(env or {})}).invoke(
        cli, ["fmt", *args], input=stdin, catch_exceptions=False, prog_name="dro")


def test_fmt_rewrites_changed_files_and_names_them(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    folder = catalog_dir({"a.dro": UGLY, "sub/b.dro": PRETTY, "sub/c.dro": UGLY})
    result = run(str(folder))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [str(folder / "a.dro"), str(folder / "sub" / "c.dro")]
    assert result.stderr == "2 files reformatted, 1 file left unchanged\n"
    assert [(folder / n).read_text() for n in ("a.dro", "sub/b.dro", "sub/c.dro")] == [PRETTY] * 3
    again = run(str(folder))
    assert (again.exit_code, again.stdout, again.stderr) == (0, "", "3 files left unchanged\n")


def test_fmt_names_files_relative_to_the_working_directory(catalog_dir, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    folder = catalog_dir({"cat/a.dro": UGLY})
    monkeypatch.chdir(folder)
    assert run("cat").stdout == f"cat{os.sep}a.dro\n"


def test_fmt_defaults_to_dro_catalog(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    folder = catalog_dir({"a.dro": UGLY})
    result = run(env={"DRO_CATALOG": str(folder)})
    assert result.exit_code == 0 and (folder / "a.dro").read_text() == PRETTY


def test_check_lists_what_would_change_writes_nothing_and_exits_1(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    folder = catalog_dir({"a.dro": UGLY, "b.dro": PRETTY})
    result = run("--check", str(folder))
    assert result.exit_code == 1
    assert result.stdout == f"{folder / 'a.dro'}\n"
    assert result.stderr == "1 file would be reformatted, 1 file already formatted\n"
    assert (folder / "a.dro").read_text() == UGLY
    assert run("--check", str(folder / "b.dro")).exit_code == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    folder = catalog_dir({"a.dro": UGLY})
    shown = str(folder / "a.dro")
    result = run("--diff", shown)
    assert result.exit_code == 1
    assert result.stdout == (f"--- {shown}\n+++ {shown}\n@@ -1,2 +1,2 @@\n"
                             '-lane a   "A"\n+lane a  "A"\n lane bb "B"\n')
    assert (folder / "a.dro").read_text() == UGLY


def test_stdin_is_formatted_to_stdout() -> None:
    result = run("-", stdin=UGLY.replace("\n", "\r\n"))
    assert (result.exit_code, result.stdout, result.stderr) == (0, PRETTY, "")
    assert run("--check", "-", stdin=PRETTY).exit_code == 0
    assert run("--check", "-", stdin=UGLY).exit_code == 1


def test_stdin_with_a_syntax_error_prints_nothing_on_stdout() -> None:
    result = run("--stdin-filename", "cat/x.dro", "-", stdin='lane a "A"\nlane @\n')
    assert result.exit_code == 2 and result.stdout == ""
    assert "error[DRO104]" in result.stderr and "cat/x.dro:2:6" in result.stderr


def test_stdin_cannot_mix_with_paths(tmp_path: Path) -> None:
    result = run("-", str(tmp_path))
    assert result.exit_code == 2 and "cannot be mixed" in result.stderr


def test_a_file_that_does_not_parse_is_reported_and_left_alone(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    bad = 'lane a "A"\ngroup g {\n  step s "S" {\n    type = auto\n  }\n}\n'
    folder = catalog_dir({"a.dro": UGLY, "bad.dro": bad})
    result = run(str(folder))
    assert result.exit_code == 2
    assert result.stdout == f"{folder / 'a.dro'}\n"
    assert "error[DRO104]" in result.stderr and f"{folder / 'bad.dro'}:4:10" in result.stderr
    assert result.stderr.endswith("1 file reformatted, 1 file could not be formatted\n")
    assert (folder / "bad.dro").read_text() == bad
    assert (folder / "a.dro").read_text() == PRETTY


def test_a_missing_path_is_a_usage_error_before_anything_is_written(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    folder = catalog_dir({"a.dro": UGLY})
    result = run(str(folder), str(folder / "nope"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: path '{folder / 'nope'}' does not exist\n  = help: ")
    assert (folder / "a.dro").read_text() == UGLY


def test_a_file_that_is_not_utf8_is_reported(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    folder = catalog_dir({"latin.dro": b'lane a "\xe9"\n', "a.dro": UGLY})
    result = run(str(folder))
    assert result.exit_code == 2
    assert "error[DRO002]: file is not UTF-8" in result.stderr
    assert (folder / "latin.dro").read_bytes() == b'lane a "\xe9"\n'
    assert run("-", stdin=b"\xff").exit_code == 2


def test_yaml_files_and_hidden_directories_are_skipped(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    folder = catalog_dir({"a.dro.yaml": "lanes: {}\n", ".git/x.dro": UGLY, ".venv/y.dro": UGLY, "z.dro": UGLY})
    result = run(str(folder), str(folder / "a.dro.yaml"))
    assert result.exit_code == 0
    assert result.stdout == f"{folder / 'z.dro'}\n"
    assert (folder / ".git" / "x.dro").read_text() == UGLY


def test_writing_is_atomic_and_keeps_the_mode(catalog_dir) -> None:  # type: ignore[no-untyped-def]
    folder = catalog_dir({"a.dro": UGLY})
    path = folder / "a.dro"
    path.chmod(0o640)
    inode = path.stat().st_ino
    assert run(str(path)).exit_code == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.stat().st_ino != inode  # a new file renamed over the old one
    assert sorted(p.name for p in folder.iterdir()) == ["a.dro"]  # no temp file left


def test_a_formatter_bug_never_reaches_the_file(catalog_dir, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dsl import formatter

    folder = catalog_dir({"a.dro": UGLY})
    monkeypatch.setattr(formatter.Printer, "file", lambda self: 'lane a "A"\n')  # loses lane bb
    result = run(str(folder))
    assert result.exit_code == 2 and "cannot format" in result.stderr and "bug in dro fmt" in result.stderr
    assert (folder / "a.dro").read_text() == UGLY


def test_a_directory_without_dro_files_is_no_error(tmp_path: Path) -> None:
    (tmp_path / "a.dro.yaml").write_text("lanes: {}\n")
    result = run(str(tmp_path))
    assert (result.exit_code, result.stdout, result.stderr) == (0, "", "no .dro files found\n")


def test_help_states_the_exit_codes() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "Exit status:" in result.stdout and "--check or --diff" in result.stdout


def test_the_sample_catalogs_are_formatted() -> None:
    result = run("--check", str(CATALOGS))
    assert result.exit_code == 0, result.stdout


def plain_code_blocks(text: str) -> list[str]:
    """The code blocks of a markdown text that name no language (the .dro examples), dedented."""
    blocks: list[str] = []
    current: list[str] | None = None
    language = ""
    for line in text.split("\n"):
        if line.strip().startswith("```"):
            if current is None:
                current, language = [], line.strip()[3:]
            else:
                if not language:
                    blocks.append(textwrap.dedent("\n".join(current) + "\n"))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_the_examples_of_the_fmt_docs_are_canonical() -> None:
    blocks = plain_code_blocks((ROOT / "docs" / "fmt.md").read_text(encoding="utf-8"))
    assert len(blocks) == 3
    for block in blocks:
        # A fragment of a body is checked inside a block.
        source = block if block.startswith(("lane", "group")) else "x y {\n" + textwrap.indent(block, "  ") + "}\n"
        assert fmt(source) == source
