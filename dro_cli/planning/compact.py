"""Plan dicts that cost less memory: the steps and item contexts of a plan, each a dict with a key table
shared by all of its kind.

A plan of 100,000 line items holds hundreds of thousands of step dicts of 16 keys and item contexts
of 7. An ordinary dict carries its own table of keys and hashes (about 460 bytes for 16 keys); the
`__dict__` of instances of one class that set the same attributes in the same order shares one key
table (PEP 412) and holds only its values (about 200 bytes). They are real dicts all the same:
json.dumps writes them, `==` and `isinstance(x, dict)` hold, and the order in which the attributes are
set here is the order of the keys in plan.json.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class StepDict:
    """`StepDict(...).__dict__` is a step instance as plan.json has it (STEP_KEYS in order); `base` holds
    what every instance of the template step shares (its sub-dicts are shared, not copied)."""

    def __init__(self, instance_id: str, step: str, base: Mapping[str, Any], item: str | None,
                 bundle: str | None, after: list[str]) -> None:
        self.id = instance_id
        self.step = step
        self.title = base["title"]
        self.type = base["type"]
        self.lane = base["lane"]
        self.scope = base["scope"]
        self.run_as = base["run_as"]
        self.duration = base["duration"]
        self.jeopardy = base["jeopardy"]
        self.retry = base["retry"]
        self.queue = base["queue"]
        self.fallout = base["fallout"]
        self.config = base["config"]
        self.item = item
        self.bundle = bundle
        self.after = after


STEP_KEYS = ("id", "step", "title", "type", "lane", "scope", "run_as", "duration", "jeopardy", "retry", "queue",
             "fallout", "config", "item", "bundle", "after")


class _ItemContext:
    def __init__(self, item_id: str, product: str, quantity: int, action: str, attributes: Mapping[str, Any],
                 bundle: str, source: str) -> None:
        self.id = item_id
        self.product = product
        self.quantity = quantity
        self.action = action
        self.attributes = attributes
        self.bundle = bundle
        self.source = source


def item_context(item_id: str, product: str, quantity: int, action: str, attributes: Mapping[str, Any],
                 bundle: str, source: str) -> dict[str, Any]:
    """A fulfillment item as expressions and the plan's context see it."""
    return _ItemContext(item_id, product, quantity, action, attributes, bundle, source).__dict__
