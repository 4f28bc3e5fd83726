"""``Channels()`` without a broker takes ``TETHER_BROKER`` (set by ``tether run --broker``)."""

from __future__ import annotations

import pytest

from tether.channels import Channels
from tether.channels.backends.memory import MemoryBackend
from tether.channels.backends.redis import RedisBackend


def test_default_broker_is_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TETHER_BROKER", raising=False)
    assert isinstance(Channels().backend, MemoryBackend)


def test_broker_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_BROKER", "redis://127.0.0.1:6379/0?prefix=envtest")
    backend = Channels().backend
    assert isinstance(backend, RedisBackend)
    assert backend.prefix == "envtest"


def test_explicit_broker_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TETHER_BROKER", "redis://127.0.0.1:6379/0")
    assert isinstance(Channels("memory://").backend, MemoryBackend)
