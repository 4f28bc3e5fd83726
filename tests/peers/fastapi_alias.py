"""A pytest plugin that answers ``import fastapi`` and ``import starlette`` with tether.

Loaded with ``-p fastapi_alias`` in the subprocess that runs FastAPI's published tests (see
``peer_runner.py``). It puts a finder first on ``sys.meta_path`` that maps, as docs/compat.md
tells a user to change their imports:

* ``fastapi`` -> a module holding tether's public names plus ``FastAPI`` (``tether.Tether``)
  and ``APIRouter`` (``tether.Router``);
* ``fastapi.<module>`` and ``starlette.<module>`` -> ``tether.<module>`` (the same module
  object, so monkeypatching one patches the other);
* ``starlette`` -> ``tether``.

A name tether lacks raises ``ModuleNotFoundError``: nothing falls through to a real
``fastapi`` or ``starlette``, so no test of the peer can pass by testing the peer.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types
from collections.abc import Sequence

PEERS = ("fastapi", "starlette")


def _facade() -> types.ModuleType:
    """The top-level ``fastapi`` module: tether's namespace under FastAPI's two class names."""
    import tether

    module = types.ModuleType("fastapi", tether.__doc__)
    for name, value in vars(tether).items():
        if not name.startswith("__"):
            setattr(module, name, value)
    module.FastAPI = tether.Tether  # type: ignore[attr-defined]
    module.APIRouter = tether.Router  # type: ignore[attr-defined]
    module.__version__ = tether.__version__  # type: ignore[attr-defined]
    module.__path__ = []  # a package, so ``fastapi.<module>`` goes through the finder
    return module


def target_of(name: str) -> str:
    """The tether module that stands for peer module ``name`` (``fastapi.x.y`` -> ``tether.x.y``)."""
    _, _, rest = name.partition(".")
    return f"tether.{rest}" if rest else "tether"


class PeerAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finder and loader for the peers' module names."""

    def __init__(self) -> None:
        self._saved_specs: dict[str, importlib.machinery.ModuleSpec | None] = {}

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in PEERS:
            return None
        if fullname == "fastapi":
            return importlib.util.spec_from_loader(fullname, self, is_package=True)
        real = importlib.import_module(target_of(fullname))  # ModuleNotFoundError: a real gap
        return importlib.util.spec_from_loader(fullname, self, is_package=hasattr(real, "__path__"))

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if spec.name == "fastapi":
            return _facade()
        real = sys.modules[target_of(spec.name)]
        self._saved_specs[spec.name] = real.__spec__
        return real

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system set __spec__ of the tether module to the alias spec: put tether's
        # own back (found again under the module's real name) so reloads and pickling work.
        for alias, saved in list(self._saved_specs.items()):
            if sys.modules.get(target_of(alias)) is module:
                module.__spec__ = saved
                del self._saved_specs[alias]


def install() -> None:
    """Put the alias finder first and refuse to run if a real peer is already imported."""
    for name in list(sys.modules):
        if name.partition(".")[0] in PEERS:
            raise RuntimeError(f"{name} was imported before the tether alias was installed")
    sys.meta_path.insert(0, PeerAlias())


install()
# Interpreters the tests start (FastAPI's telemetry tests run some bodies in a fresh one) find
# the alias too, through sitecustomize.py in this folder (on their PYTHONPATH).
os.environ["TETHER_PEER_ALIAS"] = "1"


def pytest_configure(config: object) -> None:
    """Register the marker FastAPI's suite gets from pytest-xdist (not installed here)."""
    config.addinivalue_line(  # type: ignore[attr-defined]
        "markers", "xdist_group(name): pytest-xdist's grouping marker, unused in this run"
    )
