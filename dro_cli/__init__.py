"""dro: fulfillment orchestration as code. The command line and the runtime."""

from dro_cli.engine.flow_errors import NonRetryable

__all__ = ["NonRetryable"]
__version__ = "0.1.0"
