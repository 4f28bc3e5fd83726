"""The layer rule of DESIGN.md: a module imports only from its own layer or the layers below.

Imports are read with ``ast`` (including imports inside functions, but not those under
``if TYPE_CHECKING:``, which never run). A new module must be given a layer here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "tether"

# Lower numbers are the foundations; a module may import from layers <= its own.
LAYERS: dict[str, int] = {
    "types": 0,
    "status": 0,
    "exceptions": 0,
    "datastructures": 0,
    "_json": 0,
    "encoders": 0,
    "concurrency": 0,
    "background": 0,
    "requests": 1,
    "formparsers": 1,
    "websockets": 1,
    "messages": 1,
    "responses": 2,
    "streams": 2,
    "sse": 2,
    "convertors": 3,
    "routing": 3,
    "params": 4,
    "dependencies": 4,
    "security": 4,
    "middleware": 5,
    "exception_handlers": 5,
    "endpoints": 5,
    "templating": 5,
    "authentication": 5,
    "staticfiles": 5,
    "runtime": 5,
    "limits": 5,
    "metrics": 5,
    "shutdown": 5,
    "heartbeat": 5,
    "telemetry": 5,
    "logsafe": 5,
    "applications": 5,
    "openapi": 5,
    "channels": 6,
    "asyncapi": 7,
    "testclient": 7,
    "cli": 7,
    "demo": 7,
    "__main__": 7,
    "__init__": 8,
}


def layer_of(top: str) -> int:
    if top in LAYERS:
        return LAYERS[top]
    raise AssertionError(f"module tether.{top} has no layer in tests/test_layers.py")


def top_name(path: Path) -> str:
    relative = path.relative_to(SRC).with_suffix("")
    return relative.parts[0]


def runtime_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, imported tether module) for every import that can run."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skipped.update(id(sub) for sub in ast.walk(child))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "tether":
                found += [(node.lineno, f"tether.{alias.name}") for alias in node.names]
            elif node.module.startswith("tether."):
                found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("tether.")]
    return found


MODULES = sorted(p for p in SRC.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_module_imports_only_from_lower_layers(path: Path) -> None:
    own = top_name(path)
    own_layer = layer_of(own if own != "__init__.py" else "__init__")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    upward = [
        f"line {line}: {name} (layer {layer_of(name.split('.')[1])} > {own_layer})"
        for line, name in runtime_imports(tree)
        if layer_of(name.split(".")[1]) > own_layer
    ]
    assert not upward, f"{path.relative_to(SRC)} imports upward: " + "; ".join(upward)


def test_every_module_has_a_layer() -> None:
    for path in MODULES:
        layer_of(top_name(path) if top_name(path) != "__init__.py" else "__init__")


def test_the_checker_sees_runtime_imports_and_skips_type_checking_ones() -> None:
    # Without this, a checker that found no imports at all would pass every module above.
    source = (
        "from typing import TYPE_CHECKING\n"
        "from tether.channels import Channels\n"
        "import tether.cli, os\n"
        "from tether import routing\n"
        "from . import sibling\n"
        "if TYPE_CHECKING:\n"
        "    from tether.asyncapi import Spec\n"
        "def later():\n"
        "    from tether.testclient import TestClient\n"
    )
    found = sorted(runtime_imports(ast.parse(source)))
    assert found == [
        (2, "tether.channels"),
        (3, "tether.cli"),
        (4, "tether.routing"),
        (9, "tether.testclient"),
    ]
    assert [layer_of(name.split(".")[1]) for _, name in found] == [6, 7, 3, 7]
    assert layer_of("routing") == 3  # a subpackage: one layer for all its modules
    with pytest.raises(AssertionError, match="no layer"):
        layer_of("brand_new_module")


# -- import cycles ---------------------------------------------------------------------------
# Stricter than the layer rule: every import counts, also those under TYPE_CHECKING and those
# deferred into a function, because a deferred import that breaks a circle at run time still
# ties the two modules together. A package counts as its __init__ module.


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Every tether module that ``path`` imports, anywhere in its body."""
    own = module_name(path).split(".")
    package = own if path.name == "__init__.py" else own[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            parent = ".".join([*base, *([node.module] if node.module else [])])
            for alias in node.names:
                child = f"{parent}.{alias.name}"
                found.add(child if child in known else parent)
    return {name for name in found if name in known}


# Deliberate lazy re-exports: a face that offers a name the peer's module of the same name
# exports, defined in a module above it, resolved by a module ``__getattr__`` on first access.
LAZY_REEXPORTS: dict[tuple[str, str], str] = {
    ("tether.responses", "tether.streams.responses"): "fastapi.responses has EventSourceResponse",
    ("tether.security", "tether.security.forms"): "fastapi.security has OAuth2PasswordRequestForm",
}


def import_graph() -> dict[str, set[str]]:
    names = {module_name(path): path for path in MODULES}
    known = set(names)
    graph = {name: imported_modules(path, known) - {name} for name, path in names.items()}
    for source, target in LAZY_REEXPORTS:
        graph[source].discard(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def test_no_import_cycles() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
