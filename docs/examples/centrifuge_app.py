"""A chat backend that every Centrifugo client SDK can use: tether's Centrifuge endpoint.

Run it with ``uvicorn docs.examples.centrifuge_app:app`` and point any Centrifuge SDK at
``ws://localhost:8000/connection/websocket`` with a token from ``/token?user=ann``
(for example the npm ``centrifuge`` client: ``new Centrifuge(url, {getToken})``).
"""

from __future__ import annotations

import dataclasses
import os
import time

import jwt

from tether import Tether
from tether.channels import ChannelOptions, Channels
from tether.channels.centrifuge import CentrifugeError, Session, TokenVerifier

SECRET = os.environ.get("CENTRIFUGE_TOKEN_SECRET", "change-me-to-32-random-bytes-or-more!")

channels = Channels(
    namespaces={
        # chat:*: history for recovery, presence, join/leave, clients may publish.
        "chat": ChannelOptions(
            history_size=100, presence=True, join_leave=True, client_publish=True
        ),
    }
)
centrifuge = channels.centrifuge_endpoint(tokens=TokenVerifier(hmac_secret=SECRET))


@dataclasses.dataclass
class Roll:
    sides: int


@centrifuge.rpc("roll")
async def roll(session: Session, request: Roll) -> dict[str, int | str]:
    """An RPC whose data is typed: ``client.rpc("roll", {"sides": 6})``."""
    if request.sides < 2:
        raise CentrifugeError(1000, "a die needs at least two sides")
    return {"user": session.user, "result": int(time.time() * 1000) % request.sides + 1}


app = Tether(lifespan=channels.lifespan)
app.add_websocket_route("/connection/websocket", centrifuge)


@app.get("/token")
def token(user: str) -> dict[str, str]:
    """A connection token for ``user`` valid for 10 minutes (your login decides who may ask)."""
    claims = {"sub": user, "exp": int(time.time()) + 600}
    return {"token": jwt.encode(claims, SECRET, algorithm="HS256")}
