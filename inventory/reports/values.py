"""A dashboard's figures as plain values, for the exports (tables, open data, evidence)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from inventory.reports import indicators as ind
from inventory.reports.indicators import (
    Facts,
)


def euros(cents: int | None) -> Any:
    if cents is None:
        return None
    return (Decimal(int(cents)) / 100).quantize(Decimal("0.01"))


def indicator_cell(indicator: ind.Indicator, facts: Facts) -> Any:
    value = indicator.value(facts)
    if value is None:
        return None
    if indicator.unit is ind.Unit.MONEY:
        return euros(int(value))
    if indicator.unit is ind.Unit.COUNT:
        return int(value)
    return Decimal(str(round(float(value), 1)))
