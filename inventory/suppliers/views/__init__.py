"""The suppliers' pages, one module per use case, on the one ``suppliers`` blueprint
(:mod:`inventory.suppliers.views.blueprint`): importing this package registers them all."""

from inventory.suppliers.views import directory, maintenance, subscriptions  # noqa: F401
from inventory.suppliers.views.blueprint import bp

__all__ = ["bp"]
