"""docs/examples/centrifuge_app.py runs as documented, with the real centrifuge-python SDK."""

from __future__ import annotations

import httpx
import pytest
from centrifuge import Client
from centrifuge.exceptions import CentrifugeError as SDKError
from docs.examples import centrifuge_app

from servers import uvicorn_thread

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]


async def test_the_example_serves_tokens_and_a_typed_rpc() -> None:
    with uvicorn_thread(centrifuge_app.app) as url:
        async with httpx.AsyncClient() as http:
            token = (await http.get(f"{url}/token", params={"user": "ann"})).json()["token"]
        client = Client(url.replace("http://", "ws://") + "/connection/websocket", token=token)
        await client.connect()
        await client.ready(5)
        result = await client.rpc("roll", {"sides": 6})
        assert result.data["user"] == "ann" and 1 <= result.data["result"] <= 6
        with pytest.raises(SDKError) as refused:
            await client.rpc("roll", {"sides": 1})
        assert refused.value.code == 1000
        await client.disconnect()
