"""The public hub, :class:`Channels`: the core :class:`~tether.channels.hub.Hub` plus the
endpoints that serve it over the network.

Transports sit above the hub: each imports :mod:`tether.channels.hub` and none is imported by
it, so a new transport is a module here and a property or method on :class:`Channels`.
"""

from __future__ import annotations

from typing import Any

from tether.channels.health import HealthApp
from tether.channels.hub import Hub
from tether.channels.protocol import serve
from tether.channels.sse import ChannelStream
from tether.channels.static import client_js_app
from tether.runtime.limits_policy import CLIENT_SPEAKS_FIRST

__all__ = ["Channels"]


class Channels(Hub):
    """Pub/sub hub: publish from anywhere, subscribe WebSockets, history, presence.

    See :class:`~tether.channels.hub.Hub` for the constructor and the hub's API; this class adds
    the endpoints: :meth:`endpoint` (the browser protocol), :attr:`client_js` and
    :attr:`health_endpoint`.
    """

    async def endpoint(self, websocket: Any) -> None:
        """WebSocket endpoint speaking the browser protocol (docs/channels-protocol.md)."""
        await serve(self, websocket)

    # The protocol greets every client (``connected``): only the client's own frames meet the
    # first-message deadline of the default limits.
    setattr(endpoint, CLIENT_SPEAKS_FIRST, True)

    def sse_endpoint(self, channels: Any, **options: Any) -> Any:
        """ASGI app streaming ``channels`` over Server-Sent Events, resumable by event id.

        ``channels``: names, or ``channels(request)`` returning them; options (``format``,
        ``ping_interval``, ``retry``) as :class:`tether.channels.sse.ChannelStream`. Mount it
        with ``app.add_route(path, hub.sse_endpoint(...))``. See docs/streaming.md.
        """
        return ChannelStream(self, channels, **options)

    def centrifuge_endpoint(self, **options: Any) -> Any:
        """A WebSocket endpoint speaking the Centrifuge client protocol over this hub.

        Mount it at ``/connection/websocket``; ``options`` go to
        :class:`~tether.channels.centrifuge.CentrifugeEndpoint` (docs/centrifuge.md).
        """
        from tether.channels.centrifuge.endpoint import CentrifugeEndpoint

        return CentrifugeEndpoint(self, **options)

    @property
    def client_js(self) -> Any:
        """ASGI app serving ``tether-channels.js``; mount it at ``/_tether/channels.js``."""
        return client_js_app

    @property
    def health_endpoint(self) -> Any:
        """ASGI app: 200 with :meth:`health` as JSON when ok, else 503."""
        return HealthApp(self)
