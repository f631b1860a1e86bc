"""The exception a flow raises for a failure that no retry can fix."""

from __future__ import annotations


class NonRetryable(Exception):
    """Raise it (or a subclass) in a flow to send the step straight to the fallout queue.

    The error code is the class name, so a subclass (`class CreditRejected(NonRetryable)`)
    gives fallout rules something precise to match.
    """
