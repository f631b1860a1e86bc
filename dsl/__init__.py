"""dro's catalog language: parse, check and compile catalogs into plan templates.

The compiler (lark, jsonschema, PyYAML) loads on first use of `check_catalog` or
`compile_catalog`, so the runtime, which only needs `dsl.diagnostics` and the
like, starts without it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dsl.diagnostics import Diagnostic, Severity, Span

if TYPE_CHECKING:
    from dsl.api import CompileResult, check_catalog, compile_catalog

__all__ = ["CompileResult", "Diagnostic", "Severity", "Span", "check_catalog", "compile_catalog"]
_LAZY = frozenset({"CompileResult", "check_catalog", "compile_catalog"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from dsl import api

        return getattr(api, name)
    raise AttributeError(f"module 'dsl' has no attribute {name!r}")
