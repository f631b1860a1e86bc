"""--order-format and --tmf-product: how the commands that read order files read them (docs/tmf622.md)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def order_form_options(function: F) -> F:
    """--order-format and --tmf-product: how the command reads order files (docs/tmf622.md)."""
    @functools.wraps(function)
    def wrapper(*args: Any, order_format: str, tmf_product: str, **kwargs: Any) -> Any:
        from dro_cli.planning.tmf622 import OrderForm, using

        form = OrderForm(order_format, tmf_product)
        problem = form.problem()
        if problem is not None:
            raise click.BadParameter(problem, param_hint="--tmf-product")
        with using(form):
            return function(*args, **kwargs)

    wrapped = click.option("--tmf-product", default="productOffering.id", envvar="DRO_TMF622_PRODUCT",
                           show_default=True, metavar="FIELD",
                           help="Where a TMF622 order item names its product: productOffering.id, "
                                "productSpecification.id or characteristic:NAME ($DRO_TMF622_PRODUCT).")(wrapper)
    return click.option("--order-format", type=click.Choice(["auto", "dro", "tmf622"]), default="auto",
                        envvar="DRO_ORDER_FORMAT", show_default=True,
                        help="auto: a TMF622 ProductOrder is recognised by its shape; dro or tmf622 to say which "
                             "($DRO_ORDER_FORMAT).")(wrapped)  # type: ignore[return-value]
