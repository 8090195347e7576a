"""Small helpers shared by the domains' forms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from markupsafe import Markup, escape
from wtforms import SelectChoice
from wtforms.widgets import Select


def sent_version(form: Any, garbled: int | None = -1) -> int | None:
    """The version a form was loaded with, from its hidden ``version`` field. A form sent
    without the field keeps the record's own (an int); a garbled one gives ``garbled``
    (-1 by default: a version no record has, so the save is a conflict)."""
    value = str(form.version.data if form.version.data is not None else "")
    return int(value) if value.isdigit() and len(value) < 10 else garbled


def options(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """(value, label) pairs as select options."""
    return [SelectChoice(value, label) for value, label in pairs]


class QuickSelect(Select):
    """A select that writes its plain options directly: lists of places offer a few
    hundred, and WTForms' generic attribute rendering cost more per option than the rest
    of a list page's row. The markup is the same (attributes in name order)."""

    @classmethod
    def render_option(cls, choice: SelectChoice, **kwargs: Any) -> Markup:
        if kwargs or choice.render_kw or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{escape(choice.value)}">{label}</option>')
