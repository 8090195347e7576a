"""The accompaniment pages, one module per use case, on the one ``training`` blueprint
(:mod:`inventory.training.views.blueprint`): importing this package registers them all."""

from inventory.training.views import attachments, calendar, coverage, records, sessions  # noqa: F401
from inventory.training.views.blueprint import bp

__all__ = ["bp"]
