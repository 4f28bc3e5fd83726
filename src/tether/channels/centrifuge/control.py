"""Server-side commands for a user's connections on every node, carried by the hub itself.

``endpoint.subscribe(user, channel)``, ``unsubscribe`` and ``disconnect`` publish a small
JSON command to the reserved channel ``tether-centrifuge:control``; every node's endpoint
listens on it through an internal hub connection and applies the command to the sessions of
that user it holds. So the commands travel through the same broker as publications (memory
in one process, Redis across processes), and reach the nodes in publish order.

The namespace ``tether-centrifuge`` is registered with an ``authorize`` hook that refuses
every protocol client, so no client can read or send commands.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from tether._json import dumps, loads
from tether.channels.options import Action, ChannelOptions

if TYPE_CHECKING:
    from tether.channels.connection import Connection
    from tether.channels.hub import Hub

__all__ = ["CONTROL_CHANNEL", "Control"]

NAMESPACE = "tether-centrifuge"
CONTROL_CHANNEL = f"{NAMESPACE}:control"
logger = logging.getLogger("tether.channels")


def _refuse(connection: Connection, channel: str, action: Action) -> bool:
    return False


class Control:
    """One node's end of the control channel: sends commands, applies the ones it hears."""

    def __init__(self, hub: Hub, apply: Any) -> None:
        self.hub = hub
        self._apply = apply
        self._ready: asyncio.Future[None] | None = None
        self._connection: Connection | None = None
        hub.namespace(NAMESPACE, ChannelOptions(authorize=_refuse))

    async def listen(self) -> None:
        """Subscribe this node to the control channel (once; later calls wait for it).

        A hub that was stopped dropped the internal connection: the next call opens another.
        """
        if self._connection is not None and self._connection.closed:
            self._ready = self._connection = None
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
            try:
                connection = self._connection = self.hub.open(_ControlSocket(self), raw=True)
                await connection.subscribe(CONTROL_CHANNEL)
            except BaseException as exc:
                self._ready.set_exception(exc)
                self._ready.exception()  # retrieved: waiters get it through their shield
                self._ready = self._connection = None
                raise
            self._ready.set_result(None)
        await asyncio.shield(self._ready)

    async def send(self, command: dict[str, Any]) -> None:
        """Publish ``command`` to every node (this one included)."""
        await self.listen()
        await self.hub.publish_json(CONTROL_CHANNEL, dumps(command))

    async def received(self, text: str) -> None:
        try:
            await self._apply(loads(text))
        except Exception as exc:  # one bad command must not stop the others
            logger.warning("centrifuge control command failed: %r", exc)


class _ControlSocket:
    """The "socket" of the internal connection: each frame is a command to apply."""

    def __init__(self, control: Control) -> None:
        self.control = control
        self._tasks: set[asyncio.Task[None]] = set()

    async def send(self, message: dict[str, Any]) -> None:
        task = asyncio.get_running_loop().create_task(self.control.received(message["text"]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Nothing to close: the hub stopped."""
