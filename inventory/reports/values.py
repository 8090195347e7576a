"""A dashboard's figures as plain values, for the exports (tables, open data, evidence)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from inventory.core.exporting import money
from inventory.reports import indicators as ind
from inventory.reports.indicators import (
    Facts,
)


def euros(cents: int | None) -> Any:
    """An amount for the exports: typed as money (``#,##0.00`` in a workbook)."""
    return money(cents)


def indicator_cell(indicator: ind.Indicator, facts: Facts) -> Any:
    value = indicator.value(facts)
    if value is None:
        return None
    if indicator.unit is ind.Unit.MONEY:
        return euros(int(value))
    if indicator.unit is ind.Unit.COUNT:
        return int(value)
    return Decimal(str(round(float(value), 1)))
