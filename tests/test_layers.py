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
    "_urls": 0,
    "_headers": 0,
    "_multidict": 0,
    "_json": 0,
    "encoders": 0,
    "concurrency": 0,
    "background": 0,
    "logsafe": 0,
    "requests": 1,
    "websockets": 1,
    "messages": 1,
    "responses": 2,
    "streams": 2,
    "sse": 2,
    "convertors": 3,
    "routing": 3,
    "_routing_*": 3,
    "params": 4,
    "dependencies": 4,
    "security": 4,
    "_di_*": 4,
    "middleware": 5,
    "_exception_handlers": 5,
    "endpoints": 5,
    "templating": 5,
    "authentication": 5,
    "staticfiles": 5,
    "limits": 5,
    "metrics": 5,
    "shutdown": 5,
    "heartbeat": 5,
    "telemetry": 5,
    "applications": 5,
    "_applications_*": 5,
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
    for pattern, rank in LAYERS.items():
        if pattern.endswith("*") and top.startswith(pattern[:-1]):
            return rank
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
    assert layer_of("_routing_index") == 3  # a wildcard entry
    with pytest.raises(AssertionError, match="no layer"):
        layer_of("brand_new_module")
