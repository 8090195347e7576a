"""Equipment pages: the blueprint ``assets`` (:mod:`.common`) and its pages by use case."""

from inventory.assets.views import catalogue, disposal, items, works
from inventory.assets.views.common import bp

__all__ = ["bp", "catalogue", "disposal", "items", "works"]
