"""Mistakes that used to show only in production: URLs, header names, flow modules, command programs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import dsl
from dro_cli.runtime.handlers import Invocation, run_step
from dsl.urls import parse_base_url, url_problem

CATALOG = """\
lane ops "Operations"

endpoint wms "Warehouse" {
  url URL
}

group kit "Kit" {
  step reserve "Reserve" {
    type     callout
    lane     ops
    endpoint wms
    method   POST
    path     "/reservations"
  }
  STEPS
}

scenario kits "Kits" {
  when item.product == "KIT"
  add  kit
}
"""


def catalog(tmp_path: Path, url: str = '"http://127.0.0.1:8081"', steps: str = "",
            files: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "cat"
    folder.mkdir(exist_ok=True)
    (folder / "kit.dro").write_text(CATALOG.replace("URL", url).replace("STEPS", steps), encoding="utf-8")
    for name, text in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def codes(result: dsl.CompileResult) -> list[str]:
    return [d.code for d in result.diagnostics]


# ---- URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "what"), [
    ("127.0.0.1:1", "'127.0.0.1:1' has no scheme"),
    ("localhost:8080", "'localhost:8080' has no scheme"),
    ("ftp://example.org", "'ftp://example.org' has the scheme 'ftp'"),
    ("http://", "'http://' has no host"),
    ("http://:80", "'http://:80' has no host"),
    ("http://wms:99999", "'http://wms:99999' has the port '99999'"),
    ("http://wms:80a", "'http://wms:80a' has the port '80a'"),
    ("http://wms/api?key=1", "'http://wms/api?key=1' has a query ('?key=1'), which a base URL cannot keep"),
    ("http://wms/#top", "'http://wms/#top' has a fragment ('#top'), which is never sent"),
    ("http://wms api", "'http://wms api' contains a space"),
    ("http://[::1", "'http://[::1' is not a URL (Invalid IPv6 URL)"),
    ("", "the URL is empty"),
])
def test_what_is_wrong_with_a_url(url: str, what: str) -> None:
    problem = url_problem(url)
    assert problem is not None and problem.what == what


@pytest.mark.parametrize("url", ["http://127.0.0.1:8081", "https://wms.example.com/v1/", "HTTP://WMS",
                                 "http://[::1]:8080/api", " http://wms "])
def test_a_good_url_has_no_problem(url: str) -> None:
    assert url_problem(url) is None


def test_a_password_in_a_url_is_never_shown() -> None:
    problem = url_problem("http://svc:s3cret@wms:8081")
    assert problem is not None and "s3cret" not in problem.what + problem.fix
    assert problem.what.startswith("'http://***@wms:8081' has a user name or password")
    with pytest.raises(ValueError, match=r"^'\*\*\*@wms' has no scheme") as raised:
        parse_base_url("svc:s3cret@wms")
    assert "s3cret" not in str(raised.value)


@pytest.mark.parametrize("url", ['env("WMS_URL", "127.0.0.1:1")', '"127.0.0.1:1"'], ids=["env-default", "written"])
def test_validate_reports_a_url_without_a_scheme(tmp_path: Path, url: str) -> None:
    result = dsl.check_catalog([catalog(tmp_path, url)])
    assert codes(result) == ["DRO214"]  # the schema's vaguer DRO203 is not said again
    (problem,) = result.diagnostics
    assert problem.summary == "bad URL: '127.0.0.1:1' has no scheme"
    assert problem.hint == "write 'http://127.0.0.1:1' (or https://)"
    assert problem.span is not None and (problem.span.line, problem.span.col) == (4, url.index('"127') + 7)
    assert not dsl.compile_catalog([catalog(tmp_path, url)]).ok  # no templates that would fall out


def test_validate_reports_a_bad_url_in_yaml(tmp_path: Path) -> None:
    (tmp_path / "c.dro.yaml").write_text(
        "endpoints:\n  wms: {url: {env: WMS_URL, default: 'http://wms:0'}}\n", encoding="utf-8")
    result = dsl.check_catalog([tmp_path])
    assert [(d.code, d.span.line if d.span else 0) for d in result.diagnostics if d.is_error] == [("DRO214", 2)]


def test_the_run_time_refuses_what_validate_refuses_without_showing_a_secret() -> None:
    step = {"id": "reserve", "step": "reserve", "title": "Reserve", "type": "callout", "lane": "ops",
            "scope": "plan", "run_as": None, "config": {"endpoint": "wms", "path": "/r"}}
    endpoints = {"wms": {"url": {"env": "WMS_URL", "default": "http://127.0.0.1:9"}, "timeout": 1, "headers": {},
                         "auth": None}}
    for value, message in [("127.0.0.1:1", "'127.0.0.1:1' has no scheme"),
                           ("http://svc:s3cret@127.0.0.1:1", "'http://***@127.0.0.1:1' has a user name")]:
        outcome = run_step(Invocation(step, 1, "ORD-1/reserve/1", {}, endpoints, None, {"WMS_URL": value}))
        assert (outcome.error, outcome.retryable) == ("bad_config", False)
        assert message in (outcome.message or "") and "s3cret" not in (outcome.message or "")


def test_header_names_and_values_that_http_refuses(tmp_path: Path) -> None:
    steps = """step note "Note" {
    type     callout
    lane     ops
    endpoint wms
    method   POST
    path     "/notes"
    headers  { "Content-Type:": "json", "X-Ok": "fine", "X-Two": "a\\nb" }
  }"""
    result = dsl.check_catalog([catalog(tmp_path, steps=steps)])
    assert [(d.code, d.summary) for d in result.diagnostics] == [
        ("DRO215", "bad header name 'Content-Type:'"), ("DRO215", "bad value of header 'X-Two'")]


# ---- flow modules, found without being imported -------------------------------------------------


def flow_steps(*flows: str) -> str:
    return "\n".join(f'step s{i} "S" {{\n    type auto\n    lane ops\n    flow "{flow}"\n  }}'
                     for i, flow in enumerate(flows))


def test_flow_modules_are_found_in_the_catalog_then_installed_without_running_them(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    runs = f"open({str(ran)!r}, 'a').write(__name__)\n"
    folder = catalog(tmp_path, steps=flow_steps("flows:ship", "pkg.sub.mod:go", "json:loads", "click.testing:f"),
                     files={"flows.py": runs, "pkg/__init__.py": runs, "pkg/sub/mod.py": runs})
    result = dsl.check_catalog([folder])
    assert codes(result) == []
    assert not ran.exists()  # neither the modules nor the package's __init__ ran


def test_a_flow_module_that_is_nowhere_is_an_error_of_validate_only(tmp_path: Path) -> None:
    folder = catalog(tmp_path, steps=flow_steps("flows:ship", "flow:ship", "pkg.nope:go", "flows.sub:x"),
                     files={"flows.py": "", "pkg/__init__.py": ""})
    result = dsl.check_catalog([folder])
    assert [d.summary for d in result.diagnostics] == [
        "flow module 'flow' not found", "flow module 'pkg.nope' not found", "flow module 'flows.sub' not found"]
    first = result.diagnostics[0]
    assert first.code == "DRO318" and first.is_error
    assert first.span is not None and first.span.file.endswith("kit.dro")
    assert first.hint == "write flow.py in the catalog directory, install the package that provides it, " \
                         "or correct the name"
    # What this machine has installed does not change the plan templates.
    assert dsl.compile_catalog([folder]).templates is not None


def test_a_flow_file_written_later_is_found(tmp_path: Path) -> None:
    folder = catalog(tmp_path, steps=flow_steps("late:go"))
    assert codes(dsl.check_catalog([folder])) == ["DRO318"]
    (folder / "late.py").write_text("", encoding="utf-8")
    assert codes(dsl.check_catalog([folder])) == []


# ---- command programs ---------------------------------------------------------------------------


def command_step(argv: str) -> str:
    return f'step c "C" {{\n    type    auto\n    lane    ops\n    command {argv}\n  }}'


@pytest.mark.parametrize(("argv", "warning"), [
    ('["no-such-program-for-dro", "a"]', "program 'no-such-program-for-dro' is not on PATH"),
    ('["./bin/missing.sh"]', "program './bin/missing.sh' does not exist"),
    ('["./bin/plain.sh"]', "program './bin/plain.sh' is not an executable file"),
    ('["./bin/run.sh"]', None),
    ('["python3", "-c", "pass"]', None),
    ('["{{ order.attributes.tool }}"]', None),  # known only at run time
])
def test_a_command_program_not_found_is_a_warning(tmp_path: Path, argv: str, warning: str | None) -> None:
    folder = catalog(tmp_path, steps=command_step(argv), files={"bin/plain.sh": "", "bin/run.sh": "#!/bin/sh\n"})
    os.chmod(folder / "bin" / "run.sh", 0o755)
    result = dsl.check_catalog([folder])
    assert [d.summary for d in result.diagnostics] == ([warning] if warning else [])
    assert all(d.code == "DRO319" and not d.is_error for d in result.diagnostics)
