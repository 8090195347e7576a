"""Accessibility checks of the pages the browser tests visit, with axe-core.

``Axe().run(page)`` injects axe-core with ``page.evaluate``, which Playwright sends over the
DevTools protocol (``Runtime.evaluate``): the page's Content-Security-Policy
(``script-src 'self'``) governs the page's own scripts, not code evaluated by the
debugger, so the checks work in an ordinary browser context and need no ``bypass_csp``
(verified against the app's exact CSP: no "Refused to ..." console message, results
returned). The tests thus see the pages exactly as users get them.
"""

from __future__ import annotations

from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

#: Violations of these impacts fail the test; "moderate" and "minor" are left to reviews.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})

_axe = Axe()


def blocking_violations(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]


def describe(url: str, violations: list[dict[str, Any]]) -> str:
    """One line per violated rule, then one line per offending node with its target."""
    lines = [f"axe-core found {len(violations)} serious or critical violation(s) on {url}:"]
    for v in violations:
        lines.append(
            f"- {v['id']} ({v['impact']}): {v.get('help', '')} [{len(v['nodes'])} node(s)]"
        )
        for node in v["nodes"]:
            target = " ".join(
                ">>>".join(t) if isinstance(t, list) else str(t) for t in node["target"]
            )
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    target: {target}  {summary}".rstrip())
    return "\n".join(lines)


def check_a11y(page: Page) -> None:
    """Fail unless the page, once loaded, has no serious or critical axe-core violation."""
    page.wait_for_load_state("load")
    results = _axe.run(page)
    violations = blocking_violations(results.response["violations"])
    assert not violations, describe(page.url, violations)
