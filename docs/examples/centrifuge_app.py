"""A chat backend that every Centrifugo client SDK can use: tether's Centrifuge endpoint.

Run it with ``uvicorn docs.examples.centrifuge_app:app`` and open http://localhost:8000/ in
two tabs: a chat page on the npm ``centrifuge`` client (loaded from a CDN). Any other
Centrifuge SDK connects to ``ws://localhost:8000/connection/websocket`` with a token from
``/token?user=ann``.
"""

from __future__ import annotations

import dataclasses
import os
import time

import jwt

from tether import Tether
from tether.channels import ChannelOptions, Channels
from tether.channels.centrifuge import CentrifugeError, Session, TokenVerifier
from tether.responses import HTMLResponse

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


CDN = "https://unpkg.com/centrifuge@5/dist/centrifuge.js"
PAGE = """<!doctype html><meta charset="utf-8"><title>chat on the Centrifuge protocol</title>
<script src="CDN_URL"></script>
<form id="join"><input id="name" placeholder="your name" required><button>join</button></form>
<p>online: <span id="online"></span></p><ul id="log"></ul>
<form id="say" hidden><input id="text" required><button>send</button></form>
<script>
const $ = (id) => document.getElementById(id);
$("join").onsubmit = async (event) => {
  event.preventDefault();
  const user = $("name").value;
  const getToken = async () => (await (await fetch("/token?user=" + encodeURIComponent(user))).json()).token;
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/connection/websocket";
  const client = new Centrifuge(url, { getToken });
  const room = client.newSubscription("chat:lobby", { joinLeave: true });
  const online = async () => {
    const members = Object.values((await room.presence()).clients).map((c) => c.user);
    $("online").textContent = [...new Set(members)].sort().join(", ");
  };
  room.on("publication", (ctx) => {
    const item = document.createElement("li");
    item.textContent = ctx.data.user + ": " + ctx.data.text;
    $("log").append(item);
  });
  room.on("subscribed", online);
  room.on("join", online);
  room.on("leave", online);
  room.subscribe();
  client.connect();
  $("say").onsubmit = (e) => { e.preventDefault(); room.publish({ user, text: $("text").value }); $("text").value = ""; };
  $("join").hidden = true;
  $("say").hidden = false;
};
</script>""".replace("CDN_URL", CDN)


@app.get("/")
def page() -> HTMLResponse:
    """A chat page on the npm ``centrifuge`` browser client."""
    return HTMLResponse(PAGE)
