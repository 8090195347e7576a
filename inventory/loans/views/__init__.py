"""The loans pages, one module per use case, on the one ``loans`` blueprint: importing this
package registers them all."""

from inventory.loans.views import bookings, custody, kits  # noqa: F401
from inventory.loans.views.blueprint import bp

__all__ = ["bp"]
