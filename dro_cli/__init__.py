"""dro: fulfillment orchestration as code. The command line and the runtime.

`NonRetryable` (what a flow raises for a failure no retry can fix) is loaded on
first use, so that `import dro_cli`, which every command pays, loads nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dro_cli.engine.flow_errors import NonRetryable

__all__ = ["NonRetryable"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "NonRetryable":
        from dro_cli.engine.flow_errors import NonRetryable

        return NonRetryable
    raise AttributeError(f"module 'dro_cli' has no attribute {name!r}")
