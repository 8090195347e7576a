"""The house rules of inventory/, read from the source with ``ast``.

Imports go one way (core, then the domains in their order, then the entry points), never
round in a cycle, and sit at the top of the module; a module stays short enough to read;
some rules have one home only. Each test lists every breach, one per line, so that a
failure says where to look."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "inventory"
MAX_LINES = 800

# The order of the layers, lowest first: a module may import its own layer or a lower one.
ORDER: tuple[tuple[str, ...], ...] = (
    ("core", "extensions", "config", "paths"),
    ("web",),
    ("changelog",),
    ("orgs",),
    ("auth",),
    ("assets",),
    ("network",),
    ("grants",),
    ("labels",),
    ("training",),
    ("suppliers",),
    ("loans",),
    ("helpdesk",),
    ("reports",),
    ("privacy",),
    ("api",),
    ("__init__", "cli", "demo", "jobs", "tasks"),
)
RANK = {name: rank for rank, names in enumerate(ORDER) for name in names}
# The application factory and the commands wire every domain together at start-up.
FUNCTION_IMPORTS_ALLOWED = {"inventory", "inventory.cli", "inventory.demo"}


@dataclass(frozen=True)
class Import:
    target: str  # the module imported (a submodule when ``from pkg import submodule``)
    line: int
    in_function: bool
    type_checking: bool


@dataclass(frozen=True)
class Module:
    name: str  # dotted: inventory.orgs.services; the package itself is "inventory"
    path: Path
    tree: ast.Module
    lines: int

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"

    @property
    def rel(self) -> str:
        return str(self.path.relative_to(PACKAGE.parent))


@cache
def modules() -> dict[str, Module]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        source = path.read_text(encoding="utf-8")
        name = ".".join(parts)
        out[name] = Module(name, path, ast.parse(source, str(path)), len(source.splitlines()))
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(
    node: ast.AST, in_function: bool = False, type_checking: bool = False
) -> Iterator[tuple[ast.AST, bool, bool]]:
    """Every node below ``node``, with whether it sits in a function body and under
    ``if TYPE_CHECKING:``."""
    for child in ast.iter_child_nodes(node):
        yield child, in_function, type_checking
        inner_fn = in_function or isinstance(
            child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
        )
        inner_tc = type_checking or (isinstance(child, ast.If) and _is_type_checking(child.test))
        yield from _walk(child, inner_fn, inner_tc)


def _resolve(module: Module, node: ast.ImportFrom) -> str:
    """The absolute module a ``from … import`` names, relative levels resolved."""
    if not node.level:
        return node.module or ""
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


@cache
def imports(name: str) -> tuple[Import, ...]:
    """What one module of inventory/ imports from inventory/."""
    module = modules()[name]
    known = modules()
    found = []
    for node, in_fn, tc in _walk(module.tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.append(sub if sub in known else base)
        for target in targets:
            if target == "inventory" or target.startswith("inventory."):
                found.append(Import(target, node.lineno, in_fn, tc))
    return tuple(found)


def layer(name: str) -> str:
    """The layer a module belongs to: its domain, or the top-level module's own name."""
    parts = name.split(".")
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def _known(target: str) -> str | None:
    """The module of inventory/ an import lands on (``import inventory.a.b`` may name a
    package's attribute rather than a module: walk up to the module)."""
    known = modules()
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def graph(*, with_type_checking: bool = False) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for name in modules():
        targets = set()
        for imp in imports(name):
            if imp.type_checking and not with_type_checking:
                continue
            target = _known(imp.target)
            if target and target != name:
                targets.add(target)
        out[name] = targets
    return out


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One shortest cycle per strongly connected component of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def connect(v: str) -> None:  # Tarjan, iteration depth is the import depth only
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(edges):
        if v not in index:
            connect(v)

    found = []
    for component in components:
        start = min(component)
        # Breadth first from start back to itself, inside the component: the shortest path.
        previous: dict[str, str] = {}
        frontier = [start]
        path: list[str] = []
        while frontier and not path:
            following = []
            for v in frontier:
                for w in sorted(edges[v] & component):
                    if w == start:
                        path = [start]
                        while v != start:
                            path.append(v)
                            v = previous[v]
                        path = [start, *reversed(path[1:]), start]
                        break
                    if w not in previous:
                        previous[w] = v
                        following.append(w)
                if path:
                    break
            frontier = following
        found.append(path)
    return sorted(found)


def _fail(title: str, breaches: list[str]) -> None:
    assert not breaches, f"{title} ({len(breaches)}):\n  " + "\n  ".join(breaches)


def test_no_import_cycle() -> None:
    found = [" -> ".join(path) for path in cycles(graph())]
    _fail("import cycles inside inventory/ (imports inside functions counted)", found)


def test_core_imports_no_domain() -> None:
    breaches = [
        f"{m.rel}:{imp.line} imports {imp.target}"
        for name, m in modules().items()
        if layer(name) == "core"
        for imp in imports(name)
        if layer(_known(imp.target) or imp.target) not in ("core", "extensions", "config", "paths")
    ]
    _fail("inventory/core imports a domain", breaches)


def test_imports_go_down_the_domain_order() -> None:
    breaches = []
    for name, m in modules().items():
        own = layer(name)
        for imp in imports(name):
            target = _known(imp.target) or imp.target
            theirs = layer(target)
            if own not in RANK or theirs not in RANK:
                unknown = own if own not in RANK else theirs
                breaches.append(f"{m.rel}:{imp.line}: layer {unknown!r} is not in the order")
            elif RANK[theirs] > RANK[own]:
                breaches.append(f"{m.rel}:{imp.line} ({own}) imports {target} ({theirs})")
    _fail("imports against the domain order", breaches)


def test_imports_sit_at_module_level() -> None:
    breaches = [
        f"{m.rel}:{imp.line} imports {imp.target} inside a function"
        for name, m in modules().items()
        if name not in FUNCTION_IMPORTS_ALLOWED
        for imp in imports(name)
        if imp.in_function
    ]
    # Imports of other packages count too: the rule is about where imports sit.
    for name, m in modules().items():
        if name in FUNCTION_IMPORTS_ALLOWED:
            continue
        for node, in_fn, _tc in _walk(m.tree):
            if in_fn and isinstance(node, ast.Import | ast.ImportFrom):
                what = (
                    ", ".join(a.name for a in node.names)
                    if isinstance(node, ast.Import)
                    else _resolve(m, node)
                )
                entry = f"{m.rel}:{node.lineno} imports {what} inside a function"
                if not what.startswith("inventory") and entry not in breaches:
                    breaches.append(entry)
    _fail("imports inside functions", sorted(breaches))


def test_modules_stay_under_800_lines() -> None:
    breaches = [f"{m.rel}: {m.lines} lines" for m in modules().values() if m.lines > MAX_LINES]
    _fail(f"modules over {MAX_LINES} lines", breaches)


# -- one home per rule -------------------------------------------------------------------
def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    if isinstance(node, ast.Subscript):
        return _dotted(node.value)
    return ""


def _origins(tree: ast.Module) -> dict[str, str]:
    """What each imported name of a module stands for, as a dotted path."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                out[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return out


def test_change_log_records_are_built_in_the_change_log_only() -> None:
    breaches = []
    for m in modules().values():
        if m.name == "inventory.core.audit" or m.name.startswith("inventory.changelog"):
            continue
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Call) and _dotted(node.func).split(".")[-1] == "AuditRecord":
                breaches.append(f"{m.rel}:{node.lineno} builds an AuditRecord")
    _fail("change-log records built outside core/audit.py and changelog/", breaches)


FOREIGN_BASES = ("flask.sessions.", "itsdangerous")


def test_no_subclass_of_the_session_interface_or_itsdangerous() -> None:
    breaches = []
    for m in modules().values():
        origins = _origins(m.tree)
        for node in ast.walk(m.tree):
            if not isinstance(node, ast.ClassDef):
                continue
            for base in node.bases:
                name = _dotted(base)
                head, _, rest = name.partition(".")
                full = origins.get(head, head) + (f".{rest}" if rest else "")
                if full.startswith(FOREIGN_BASES) or name.endswith("SessionInterface"):
                    breaches.append(f"{m.rel}:{node.lineno} class {node.name}({full})")
    _fail("classes deriving from Flask's session interface or itsdangerous", breaches)


def test_only_proxy_fix_wraps_the_wsgi_app() -> None:
    breaches = []
    for m in modules().values():
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Attribute) and target.attr == "wsgi_app":
                        value = node.value
                        if not (
                            isinstance(node, ast.Assign)
                            and isinstance(value, ast.Call)
                            and _dotted(value.func).split(".")[-1] == "ProxyFix"
                        ):
                            breaches.append(f"{m.rel}:{node.lineno} assigns wsgi_app")
    _fail("wsgi_app replaced by something other than ProxyFix", breaches)


def test_one_definition_of_tag_numbering() -> None:
    found = [
        f"{m.rel}:{node.lineno}"
        for m in modules().values()
        for node in ast.walk(m.tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "next_tag"
    ]
    assert len(found) == 1, f"`def next_tag` must be defined once, found at: {found}"


# -- the checker checks itself -----------------------------------------------------------
def test_cycle_finder_reports_the_path() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert cycles(edges) == [["a", "b", "c", "a"]]


def test_relative_imports_resolve() -> None:
    tree = ast.parse("from . import models\nfrom ..core import db\nfrom .x import y\n")
    pkg = Module("inventory.orgs", PACKAGE / "orgs" / "__init__.py", tree, 3)
    mod = Module("inventory.orgs.views", PACKAGE / "orgs" / "views.py", tree, 3)
    nodes = [n for n in tree.body if isinstance(n, ast.ImportFrom)]
    assert [_resolve(mod, n) for n in nodes] == [
        "inventory.orgs",
        "inventory.core",
        "inventory.orgs.x",
    ]
    assert [_resolve(pkg, n) for n in nodes] == [
        "inventory.orgs",
        "inventory.core",
        "inventory.orgs.x",
    ]


# -- tests read like the code -------------------------------------------------------------
TESTS = PACKAGE.parent / "tests"
# Test modules that still borrow builders or fixtures from another test module, as found
# when the rule was written. The list only shrinks, and is now empty: what a test module
# shares goes to tests/factories.py (builders) or a conftest.py (fixtures).
BORROWING_STILL_ALLOWED: set[str] = set()


def _test_modules_imported(tree: ast.Module) -> Iterator[str]:
    """The test_*.py modules (dotted) a module imports, however the import is spelled:
    ``import tests.x.test_y``, ``from tests.x.test_y import z``, ``from tests.x import test_y``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            is_test = parts[0] == "tests" and parts[-1].startswith("test_")
            if is_test and (TESTS.parent / Path(*parts)).with_suffix(".py").exists():
                yield name


def borrowings() -> set[str]:
    found = set()
    for path in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        rel = str(path.relative_to(TESTS.parent))
        found |= {f"{rel} -> {target}" for target in _test_modules_imported(tree)}
    return found


def test_no_test_module_imports_another() -> None:
    """A test module reads on its own: what several need lives in tests/factories.py or a
    conftest.py, never in another test module (whose fixtures would also leak in)."""
    found = borrowings()
    _fail(
        "test modules importing another test module (use tests/factories.py or a conftest.py)",
        sorted(found - BORROWING_STILL_ALLOWED),
    )
    _fail(
        "borrowings gone: strike them from BORROWING_STILL_ALLOWED",
        sorted(BORROWING_STILL_ALLOWED - found),
    )


def test_the_borrowing_finder_sees_every_spelling() -> None:
    tree = ast.parse(
        "import tests.test_access_matrix\n"
        "from tests import test_access_matrix, conftest\n"
        "from tests.reports.test_consistency import programme\n"
        "from tests.conftest import ADMIN\nfrom tests.concurrently import simultaneously\n"
    )
    assert sorted(set(_test_modules_imported(tree))) == [
        "tests.reports.test_consistency",
        "tests.test_access_matrix",
    ]
