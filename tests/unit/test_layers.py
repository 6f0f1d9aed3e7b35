"""The import graph runs one way, has no cycle, and check modules are leaves.

Layers, each importing only itself and those before it:

    model -> domain -> collectors | graph -> checks -> engine -> store -> poll
          -> views, exports, TUI, demo -> CLI

Every import counts, also one inside a function (a "late import" that hides a cycle is
still a cycle). Imports under ``if TYPE_CHECKING:`` never run, so the layer test leaves
them out; the cycle test counts them too, since a circle the type checker sees still
ties the two modules together. The graph is read from the sources with :mod:`ast`, so
the test sees the code as written, whatever a process happened to import first.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {
    "postureapp": "postureapp",
    "postureapp.checks": "checks",
    "postureapp.collectors": "collectors",
}

# Ordered from the bottom. A module belongs to the first entry whose prefix it has.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "model",
        (
            "postureapp.model",
            "postureapp.dates",
            "postureapp.errors",
            "postureapp.inventory",
            "postureapp.facts",
            "postureapp.config",
            "postureapp.text",
        ),
    ),
    ("domain", ("postureapp.domain",)),
    ("collectors", ("postureapp.collectors",)),
    ("graph", ("postureapp.graph",)),
    ("checks", ("postureapp.checks",)),
    ("engine", ("postureapp.engine", "postureapp.rootcause")),
    ("store", ("postureapp.store", "postureapp.governance")),
    ("poll", ("postureapp.poll", "postureapp.fleet")),
    ("views", ("postureapp.export", "postureapp.tui", "postureapp.serve", "postureapp.demo")),
    ("cli", ("postureapp.cli", "postureapp.__main__")),
]
# Same rank, different concerns: neither may import the other.
INDEPENDENT = {("collectors", "graph"), ("graph", "collectors")}
RANK = {"collectors": 2, "graph": 2}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package, folder in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join([package, *parts])] = path
    return found


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(name: str, path: Path, known: set[str], type_only: bool) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = set() if type_only else _type_checking_lines(tree)
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        candidates: list[str] = []
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            candidates = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for candidate in candidates:
            while candidate and candidate not in known:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name and candidate != "postureapp":
                targets.add(candidate)
                break
    return targets


def _layer(module: str) -> str:
    for layer, prefixes in LAYERS:
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return layer
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS in {__file__}")


def _rank(layer: str) -> int:
    return RANK.get(layer, [name for name, _ in LAYERS].index(layer))


def _graph(type_only: bool = False) -> dict[str, set[str]]:
    """Who imports whom; with ``type_only``, imports under ``if TYPE_CHECKING:`` too."""
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known, type_only) for name, path in modules.items()}


def test_every_module_has_a_layer():
    for module in _graph():
        if module != "postureapp":
            _layer(module)


def test_no_import_runs_back_up():
    upward = []
    for module, targets in _graph().items():
        if module == "postureapp":
            continue
        mine = _layer(module)
        for target in targets:
            theirs = _layer(target)
            if _rank(theirs) > _rank(mine) or (mine, theirs) in INDEPENDENT:
                upward.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert upward == []


@pytest.mark.parametrize("type_only", [False, True], ids=["run-time", "with-type-only"])
def test_no_cycle(type_only: bool):
    graph = _graph(type_only)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == []


def _registers_checks(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                call = decorator.func if isinstance(decorator, ast.Call) else decorator
                if ast.unparse(call).split(".")[-1] == "check":
                    return True
    return False


def test_check_modules_are_imported_only_by_the_catalog():
    """A module that registers checks is a leaf: knowledge the checks share lives in the
    domain layer (or a check package's private helpers), never in another check."""
    modules = _modules()
    registers = {name for name, path in modules.items() if _registers_checks(path)}
    importers: dict[str, set[str]] = defaultdict(set)
    for module, targets in _graph().items():
        for target in targets & registers:
            importers[target].add(module)
    wrong = {
        target: sorted(m for m in by if not (m == "postureapp.checks" or m.count(".") == 2))
        for target, by in importers.items()
    }
    assert {target: by for target, by in wrong.items() if by} == {}
    # ... and a package __init__ that imports them is a catalog package, not a check.
    for target, by in importers.items():
        for module in by:
            assert module.startswith("postureapp.checks"), (target, module)
