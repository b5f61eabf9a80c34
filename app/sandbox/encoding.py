"""JSON writing that renders Decimal points with exactly three decimals, as the docs show."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

THOUSANDTH = Decimal("0.001")


def format_points(value: Decimal) -> str:
    """A points number as the upstream writes it: plain notation, three decimals."""
    return format(value.quantize(THOUSANDTH), "f")


def dumps(value: object) -> str:
    """Serialise plain JSON data, writing Decimal as a bare number with three decimals.

    The stdlib encoder cannot write Decimal as a number (only as a string or a float, which
    would lose the trailing zeros the docs show), so containers are walked here and every
    other scalar is left to json.dumps.
    """
    if isinstance(value, Decimal):
        return format_points(value)
    if isinstance(value, Mapping):
        items = (f"{json.dumps(str(k))}: {dumps(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(dumps(v) for v in value) + "]"
    return json.dumps(value)
