"""dro: fulfillment orchestration as code. The command line and the runtime."""

__version__ = "0.1.0"
