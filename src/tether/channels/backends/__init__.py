"""Brokers behind one contract: :mod:`.base` (the contract), :mod:`.memory`, :mod:`.redis`
(one server, or a master found through Sentinel) and :mod:`.redis_cluster`."""

from __future__ import annotations

from typing import Any

from tether.channels.backends.base import Backend

__all__ = ["BROKER_ENV", "backend_from_url"]

# The environment variable through which `tether run --broker URL` reaches every worker.
BROKER_ENV = "TETHER_BROKER"

_memory_brokers: dict[str, Any] = {}


def backend_from_url(url: str) -> Backend:
    """Build a backend from ``memory://[name]``, ``redis://...``, ``redis+sentinel://...`` or
    ``redis+cluster://...``.

    ``memory://name`` shares one in-process broker between hubs of the same name (handy to
    simulate several nodes in one test). Raises ``ValueError`` for an unknown scheme.
    """
    from tether.channels.backends.memory import MemoryBackend, MemoryBroker

    scheme, separator, rest = url.partition("://")
    if scheme == "memory":
        if not rest:
            return MemoryBackend()
        broker = _memory_brokers.setdefault(rest, MemoryBroker())
        return MemoryBackend(broker)
    if scheme == "redis+cluster":
        from tether.channels.backends.redis_cluster import RedisClusterBackend

        return RedisClusterBackend.from_url(url)
    if scheme in ("redis", "rediss", "unix", "redis+sentinel"):
        from tether.channels.backends.redis import RedisBackend

        return RedisBackend.from_url(url)
    if not separator:
        raise ValueError(f"a broker URL starts with memory:// or redis://, got {url!r}")
    raise ValueError(
        f"unknown channels broker scheme {scheme + '://'!r}: use memory:// or redis://host:6379/0"
    )
