"""A chat room on tether channels: run with ``uvicorn docs.examples.chat_room:app``.

``tether run docs.examples.chat_room:app --broker redis://127.0.0.1:6379/0 --workers 2`` runs
several processes as one room: ``Channels()`` takes its broker from ``TETHER_BROKER``, which
``--broker`` sets.
"""

from __future__ import annotations

from typing import Any

from tether import Tether, WebSocket
from tether.channels import ChannelOptions, Channels, Connection, PublishRejected


def stamp_author(conn: Connection, channel: str, data: Any) -> dict[str, str]:
    """Clients send only their text; the server says who wrote it, so nobody speaks for another."""
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise PublishRejected('send {"text": "..."}')
    return {"from": conn.user or conn.client_id, "text": data["text"][:1000]}


channels = Channels()  # memory:// unless TETHER_BROKER (tether run --broker) names one
# Only registered namespaces are open to protocol clients. Without an `authorize` hook every
# client may read every chat:* room: add one to keep rooms private.
channels.namespace(
    "chat",
    ChannelOptions(
        history_size=100,
        presence=True,
        join_leave=True,
        client_publish=True,
        validate=stamp_author,
    ),
)

app = Tether(lifespan=channels.lifespan)
app.add_websocket_route("/channels", channels.endpoint)  # browser protocol (tether-channels.js)
app.add_route("/_tether/channels.js", channels.client_js)
app.add_route("/health", channels.health_endpoint)


@app.websocket("/rooms/{room}")
async def room(websocket: WebSocket, room: str) -> None:
    """A plain socket per room: every text frame is broadcast to the room as JSON data."""
    await websocket.accept()
    name = websocket.query_params.get("name", "anon")
    async with channels.connection(websocket, info={"name": name}, raw=True) as conn:
        await conn.subscribe(f"chat:{room}")
        async for text in websocket.iter_text():
            await channels.publish(f"chat:{room}", {"from": name, "text": text})
