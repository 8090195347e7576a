"""The grant pages under /subventions, one module per page group, on the one ``grants``
blueprint (:mod:`inventory.grants.views.blueprint`): importing this package registers them
all. Dossiers, expenses, payments, documents, the claim file, the reconciliation, and the
schemes' administration."""

from inventory.grants.views import (  # noqa: F401
    claim,
    documents,
    dossiers,
    expenses,
    payments,
    reconciliation,
    schemes,
)
from inventory.grants.views.blueprint import bp

__all__ = ["bp"]
