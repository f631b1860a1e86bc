"""The retry policies' keys (DESIGN 5), shared by the checker, the compiler and the runtime.

It imports nothing, so the runtime reads these without loading the checker.
"""

RETRY_KEYS = ("retries", "interval", "intervals", "initial", "factor", "max")
# What each policy needs and allows besides `policy`.
POLICY_NEEDS = {
    "immediate": {"retries"},
    "monotonous": {"retries", "interval"},
    "staggered": {"intervals"},
    "exponential": {"retries", "initial"},
}
POLICY_ALLOWS = {
    "immediate": {"retries"},
    "monotonous": {"retries", "interval"},
    "staggered": {"intervals", "retries"},
    "exponential": {"retries", "initial", "factor", "max"},
}
