"""The app the Centrifuge SDK tests connect to: a hub, the endpoint, an RPC, a send handler.

``make_app(broker)`` builds one in-process; ``uvicorn cf_app:app`` builds one from the
environment (TETHER_CF_BROKER) for the multi-node tests.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from tether import Tether
from tether.channels import ChannelOptions, Channels
from tether.channels.centrifuge import CentrifugeEndpoint, CentrifugeError, Session, TokenVerifier

SECRET = "tether-centrifuge-test-secret-of-32-bytes+"


@dataclasses.dataclass
class Sum:
    a: int
    b: int


def make_app(broker: str = "memory://", **options: Any) -> tuple[Tether, CentrifugeEndpoint]:
    """An app with namespaces ``chat`` (history, presence, join/leave, client publish) and
    ``news`` (history, no client publish); tokens signed with :data:`SECRET`."""
    hub = Channels(
        broker,
        namespaces={
            "chat": ChannelOptions(
                history_size=1000,
                history_ttl=600,
                presence=True,
                join_leave=True,
                client_publish=True,
            ),
            "news": ChannelOptions(history_size=1000, history_ttl=600),
        },
        presence_ttl=float(os.environ.get("TETHER_PRESENCE_TTL", 30)),
    )
    options.setdefault("tokens", TokenVerifier(hmac_secret=SECRET))
    endpoint = hub.centrifuge_endpoint(**options)
    received: list[Any] = []

    @endpoint.rpc("sum")
    async def add(session: Session, data: Sum) -> dict[str, Any]:
        return {"sum": data.a + data.b, "user": session.user}

    @endpoint.rpc("fail")
    def fail(session: Session, data: Any) -> None:
        raise CentrifugeError(1001, "custom failure")

    @endpoint.rpc("received")
    def seen(session: Session, data: Any) -> list[Any]:
        return received

    @endpoint.on_send
    def on_send(session: Session, data: Any) -> None:
        received.append(data)

    app = Tether(lifespan=hub.lifespan)
    app.add_websocket_route("/connection/websocket", endpoint)
    app.state.hub = hub
    return app, endpoint


if "TETHER_CF_BROKER" in os.environ:
    app, endpoint = make_app(os.environ["TETHER_CF_BROKER"])
