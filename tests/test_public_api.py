"""The public surface: fastapi-style top-level imports, and every ``__all__`` name real and documented."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import tether

PUBLIC_MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(tether.__path__, "tether.")
    if not any(part.startswith("_") for part in name.split(".")[1:])
    and not name.startswith("tether.demo")
)


def test_the_fastapi_import_line_works_after_renaming() -> None:
    from tether import (  # noqa: F401
        Cookie,
        Depends,
        Header,
        HTTPConnection,
        HTTPException,
        Path,
        Query,
        Request,
        Router,
        Security,
        Tether,
        WebSocket,
        WebSocketDisconnect,
        WebSocketException,
        status,
    )

    assert status.WS_1008_POLICY_VIOLATION == 1008


@pytest.mark.parametrize(
    "module",
    [
        "websockets",
        "requests",
        "responses",
        "routing",
        "endpoints",
        "exceptions",
        "status",
        "datastructures",
        "types",
        "testclient",
        "middleware",
    ],
)
def test_starlette_module_names_exist(module: str) -> None:
    importlib.import_module(f"tether.{module}")


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_names_exist_and_are_documented(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = getattr(module, "__all__", None)
    if exported is None:
        return
    undocumented = []
    for name in exported:
        assert hasattr(module, name), f"{module_name}.__all__ lists {name!r}, which is missing"
        obj = getattr(module, name)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and not inspect.getdoc(obj):
            undocumented.append(name)
    assert not undocumented, f"{module_name}: no docstring on {undocumented}"
