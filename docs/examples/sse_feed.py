"""A live feed over Server-Sent Events that survives dropped connections and server restarts
(docs/streaming.md, "Channel streams").

``GET /events`` streams the channel ``feed:main``; every event's id is the channel position
after it, so the browser's automatic reconnect (``Last-Event-ID``) resumes exactly where it
stopped, on this server after a restart or on another worker, through the broker. When history
no longer covers the gap the page gets a ``reset`` event and says so.

``POST /publish`` publishes ``{"n": ...}``; any other process can publish with an
:class:`~tether.channels.Emitter` on the same broker. Run with
``tether run docs.examples.sse_feed:app --broker redis://127.0.0.1:6379/0``.
"""

from __future__ import annotations

import os

from tether import Tether
from tether.channels import ChannelOptions, Channels
from tether.responses import HTMLResponse

FEED = ChannelOptions(history_size=int(os.environ.get("FEED_HISTORY", "1000")), history_ttl=3600.0)
channels = Channels(namespaces={"feed": FEED})
app = Tether(lifespan=channels.lifespan)
app.add_route("/events", channels.sse_endpoint(["feed:main"], retry=250))


@app.post("/publish")
async def publish(n: int) -> dict[str, int]:
    """Publish ``{"n": n}`` to the feed; returns its offset."""
    position = await channels.publish("feed:main", {"n": n})
    return {"offset": position.offset}


PAGE = """<!doctype html>
<meta charset="utf-8">
<title>tether: live feed</title>
<p>Status: <span id="status">connecting</span> &middot; <span id="count">0</span> events</p>
<ol id="feed"></ol>
<script>
// What the page saw, for people and for tests: every n once, in order, or an explicit reset.
window.feed = {received: [], resets: [], opens: 0};
const list = document.getElementById("feed");
const source = new EventSource("/events?since=start");
source.onopen = () => {
  window.feed.opens += 1;
  document.getElementById("status").textContent = "live";
};
source.onerror = () => { document.getElementById("status").textContent = "reconnecting"; };
source.onmessage = (event) => {
  const {n} = JSON.parse(event.data);
  window.feed.received.push(n);
  const item = document.createElement("li");
  item.textContent = n;
  list.append(item);
  document.getElementById("count").textContent = window.feed.received.length;
};
source.addEventListener("reset", (event) => {
  window.feed.resets.push(JSON.parse(event.data));
  const item = document.createElement("li");
  item.textContent = "(missed events: the feed restarts here)";
  list.append(item);
});
</script>
"""


@app.get("/", response_class=HTMLResponse)
async def page() -> HTMLResponse:
    """The feed page."""
    return HTMLResponse(PAGE)
