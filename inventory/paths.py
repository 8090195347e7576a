"""Where the checkout's folders are: the templates, the migrations, the reference data.

A leaf module, so that the factory, the commands, the demo and the tests can all name the
root without importing one another."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
