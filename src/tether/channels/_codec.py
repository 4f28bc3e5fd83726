"""JSON helpers: tether's shared codec when present, the standard library otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

__all__ = ["dumps", "loads"]


def _stdlib_dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


dumps: Callable[[Any], str]
loads: Callable[[str | bytes], Any]
try:  # tether._json picks the fastest installed encoder (orjson) for the whole framework.
    from tether._json import dumps, loads
except ImportError:  # pragma: no cover - only before tether._json exists
    dumps = _stdlib_dumps
    loads = json.loads
