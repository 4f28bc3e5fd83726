"""Fixtures for the chat demo tests: a Redis prefix of their own and the artifacts folder."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from servers import ROOT, redis_url

ARTIFACTS = ROOT / "test-artifacts"


def _forget_prefix(url: str, prefix: str) -> None:
    """Delete the keys a test wrote under ``prefix`` (never anything else on the shared Redis)."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def demo_redis_broker() -> Iterator[str]:
    """A broker URL on the shared Redis with a prefix no other test uses; cleaned afterwards."""
    prefix = f"demo-test-{secrets.token_hex(6)}"
    base = redis_url()
    yield f"{base}?prefix={prefix}"
    _forget_prefix(base, prefix)


@pytest.fixture
def artifacts() -> Path:
    """``test-artifacts/`` at the repository root (git-ignored), created on demand."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
