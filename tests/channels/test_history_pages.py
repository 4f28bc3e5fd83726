"""Issue 21.7: one history request neither stalls the server nor overflows the requester.

Before, ``history`` over 5,000 x 8 KB decoded and re-encoded every payload in one go (the loop
stalled 0.75 s, RSS went from 44 to 441 MiB) and the reply overflowed the requester's outbound
queue, so it got 4001 and large reads were impossible. Now a reply is one page.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import pytest
from hostile import Client, make_hub, serve_app

from tether import Tether
from tether.channels import ChannelOptions

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

COUNT = 2000
PAYLOAD = "y" * 8000


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


async def test_history_is_paged_and_complete() -> None:
    hub = make_hub("memory", namespaces={"chat": ChannelOptions(history_size=COUNT)})
    app = Tether(lifespan=hub.lifespan)

    @app.get("/fill")
    async def fill() -> dict[str, int]:
        for n in range(COUNT):
            await hub.publish("chat:big", {"n": n, "pad": PAYLOAD})
        return {"done": COUNT}

    with serve_app(hub, app) as url:
        await asyncio.to_thread(
            _get, url.replace("ws://", "http://").removesuffix("/channels") + "/fill"
        )
        client = await Client.connect(url)
        answer = await client.request({"type": "history", "channel": "chat:big"}, 1)
        first = answer["result"]
        assert first["more"] is True and 0 < len(first["publications"]) <= 100
        seen = [p["data"]["n"] for p in first["publications"]]
        while True:  # page with since: every publication once, in order, on a live socket
            since = {"offset": first["publications"][-1]["offset"], "epoch": first["epoch"]}
            answer = await client.request(
                {"type": "history", "channel": "chat:big", "since": since}, len(seen)
            )
            first = answer["result"]
            seen += [p["data"]["n"] for p in first["publications"]]
            if not first["more"]:
                break
        assert seen == list(range(COUNT))
        small = await client.request({"type": "history", "channel": "chat:big", "limit": 3}, "l")
        assert len(small["result"]["publications"]) == 3 and small["result"]["more"] is True
        bad = await client.request({"type": "history", "channel": "chat:big", "limit": -1}, "b")
        assert bad["error"]["code"] == "bad_request"
        await client.close()
