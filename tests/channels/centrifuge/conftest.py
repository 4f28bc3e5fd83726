"""Fixtures for the Centrifuge SDK tests: a served app and the npm SDK (see cf_helpers)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.append(str(Path(__file__).resolve().parent))  # appended: "conftest" stays the channels one

from cf_app import make_app  # noqa: E402
from cf_helpers import install_npm_sdk  # noqa: E402

from servers import uvicorn_thread  # noqa: E402


@pytest.fixture
def served() -> Iterator[tuple[str, Any]]:
    """(ws URL of /connection/websocket, endpoint) of an app on the memory broker."""
    app, endpoint = make_app(ping_interval=1.0, pong_timeout=1.0)
    with uvicorn_thread(app) as url:
        yield url.replace("http://", "ws://") + "/connection/websocket", endpoint


@pytest.fixture(scope="session")
def npm_sdk() -> Path:
    """The node_modules folder holding the npm ``centrifuge`` SDK and ``ws``."""
    return install_npm_sdk()
