"""Shared fixtures: real servers live in tests/servers.py."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# docs/examples are imported by the tests, so they cannot rot.
for extra in (ROOT, ROOT / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from servers import RedisServer, free_port, redis_url  # noqa: E402


@pytest.fixture
def unused_port() -> int:
    return free_port()


@pytest.fixture
def shared_redis_url() -> str:
    """URL of the shared Redis; tests must use their own key prefixes and never flush it."""
    return redis_url()


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """A private redis-server on a free port that the test may stop, pause or restart."""
    with RedisServer() as server:
        yield server
