"""Dashboard pages: the reader's whole scope, each level down to a classroom, the lists
behind the figures, the exports (tables, the ministry's open-data shapes, evidence packs).

One blueprint, ``reports`` (views.common); each module registers its routes on it."""

from inventory.reports.views import files, lists, pages
from inventory.reports.views.common import bp

__all__ = ["bp", "files", "lists", "pages"]
