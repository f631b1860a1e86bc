"""dro's catalog language: parse, check and compile catalogs into plan templates."""

from dsl.api import CompileResult, check_catalog, compile_catalog
from dsl.diagnostics import Diagnostic, Severity, Span

__all__ = ["CompileResult", "Diagnostic", "Severity", "Span", "check_catalog", "compile_catalog"]
