"""Publish-only access for processes without a server (workers, cron jobs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tether._json import dumps
from tether.channels.backends.base import Backend, Position
from tether.channels.errors import check_text
from tether.channels.names import Namespaces
from tether.channels.options import ChannelOptions

__all__ = ["Emitter"]


class _Deaf:
    """An emitter listens to nothing."""

    def on_publication(self, publication: Any) -> None: ...

    def on_presence_event(self, channel: str, kind: str, client_id: str, info: str) -> None: ...

    def on_resubscribed(self) -> None: ...

    def on_broker_state(self, available: bool) -> None: ...


class Emitter:
    """Publishes with the same offsets, epochs and history as a :class:`Channels` hub.

    Use the same namespace options as the servers so history sizes agree::

        async with Emitter("redis://127.0.0.1:6379/0", namespaces={"chat": opts}) as emitter:
            await emitter.publish("chat:lobby", {"text": "nightly report ready"})
    """

    def __init__(
        self,
        broker: str | Backend,
        *,
        namespaces: Mapping[str, ChannelOptions] | None = None,
        default: ChannelOptions | None = None,
    ) -> None:
        from tether.channels.backends import backend_from_url

        self.backend = backend_from_url(broker) if isinstance(broker, str) else broker
        self.namespaces = Namespaces(namespaces, default)
        self._started = False

    async def start(self) -> None:
        """Connect to the broker (also done lazily by :meth:`publish`)."""
        if not self._started:
            await self.backend.start(_Deaf())
            self._started = True

    async def stop(self) -> None:
        """Release the broker connection."""
        if self._started:
            self._started = False
            await self.backend.stop()

    async def publish(self, channel: str, data: Any) -> Position:
        """JSON-encode ``data`` and publish it; raises ``BrokerUnavailable`` when down and
        ``InvalidText`` for strings holding a lone surrogate."""
        options = self.namespaces.options(channel)
        text = dumps(data)
        check_text(text)
        await self.start()
        return await self.backend.publish(channel, text, options)

    async def __aenter__(self) -> Emitter:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()
