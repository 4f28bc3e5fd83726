"""Issue 21.6: protocol clients cannot use namespaces nobody registered (unless a default is given).

Before, with no ``authorize`` hook, any client could subscribe to, read the history of and see
the presence of any made-up channel, registered namespace or not.
"""

from __future__ import annotations

import pytest
from hostile import Client, make_hub, serve_app

from tether.channels import ChannelOptions

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

REQUESTS = [
    {"type": "subscribe", "channel": "secret:x"},
    {"type": "history", "channel": "secret:x"},
    {"type": "presence", "channel": "secret:x"},
    {"type": "publish", "channel": "secret:x", "data": 1},
    {"type": "subscribe", "channel": "plain"},  # no namespace at all
]


async def test_unregistered_namespaces_are_refused() -> None:
    hub = make_hub("memory")
    with serve_app(hub) as url:
        client = await Client.connect(url)
        for number, frame in enumerate(REQUESTS):
            answer = await client.request(frame, number)
            assert answer["type"] == "error", answer
            assert answer["error"]["code"] == "forbidden", answer
        assert (await client.subscribe("chat:x"))["channel"] == "chat:x"  # registered: open
        assert hub.router.channels.keys() == {"chat:x"}
        await client.close()


async def test_an_explicit_default_opens_every_namespace() -> None:
    hub = make_hub("memory", default=ChannelOptions(history_size=5))
    with serve_app(hub) as url:
        client = await Client.connect(url)
        assert (await client.subscribe("secret:x"))["recoverable"] is True
        await client.close()
