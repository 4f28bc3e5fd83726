"""Issue 21.1: text that no socket can carry (a lone surrogate) is refused at the door.

Before the fix one publish of ``{"name": "\\ud800"}`` passed the stdlib JSON fallback, failed to
encode for every recipient's socket, and the outbox took that for a gone peer: every subscriber
was dropped from the hub (sockets left open, nothing delivered any more), and the poison stayed
in history for every later ``history`` read or recovery. On both backends, through publish,
history and recovery, every other subscriber must keep receiving.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any

import pytest
from hostile import Client, make_hub, serve_app

from tether import Tether
from tether.channels import Channels, InvalidText
from tether.channels.frames import FrameRefused, LogLimiter, clean_text, decode_frame

pytestmark = pytest.mark.timeout(60)

BACKENDS = ["memory", pytest.param("redis", marks=[pytest.mark.integration, pytest.mark.redis])]
POISON = '{"name":"\\ud800"}'  # JSON syntax is fine; the string it decodes to is not Unicode


def _app(hub: Channels) -> Tether:
    app = Tether(lifespan=hub.lifespan)

    @app.get("/server-publish")
    async def server_publish() -> dict[str, Any]:
        try:
            await hub.publish("chat:room", {"name": "\ud800"})
        except InvalidText as exc:
            return {"refused": str(exc)}
        return {"refused": None}

    @app.get("/inject")
    async def inject() -> dict[str, Any]:
        # What an older version (or another writer) may have left in the broker.
        options = hub.namespaces.options("chat:room")
        position = await hub.backend.publish("chat:room", '{"name":"\ud800"}', options)
        return {"offset": position.offset}

    return app


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


async def _pub(client: Client) -> dict[str, Any]:
    return await client.until("pub")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_lone_surrogate_never_detaches_anyone(backend: str) -> None:
    hub = make_hub(backend)
    with serve_app(hub, _app(hub)) as url:
        http = url.replace("ws://", "http://").removesuffix("/channels")
        sender, *others = [await Client.connect(url) for _ in range(3)]
        for client in (sender, *others):
            await client.subscribe("chat:room")

        # The client's publish is refused with an error frame that echoes its id.
        raw = '{"type":"publish","channel":"chat:room","id":7,"data":' + POISON + "}"
        await sender.send_raw(raw)
        error = await sender.until("error")
        assert error["id"] == 7 and error["error"]["code"] == "bad_request"
        # An id that cannot be echoed: still an error frame, the connection goes on.
        await sender.send_raw('{"type":"ping","id":"\\udc00"}')
        error = await sender.until("error")
        assert error["id"] is None and error["error"]["code"] == "bad_request"
        # The server's own publish of such text raises instead of reaching anyone.
        refused = await asyncio.to_thread(_get, f"{http}/server-publish")
        assert "surrogate" in refused["refused"]

        answer = await sender.request(
            {"type": "publish", "channel": "chat:room", "data": {"n": 1}}, 8
        )
        assert answer["type"] == "reply", answer
        for client in others:  # the first pub they see is the good one: nothing went out before
            assert (await _pub(client))["data"] == {"n": 1}

        if backend == "memory":
            # Poison that is already in the broker goes out cleaned; nobody is dropped.
            await asyncio.to_thread(_get, f"{http}/inject")
            for client in others:
                assert (await _pub(client))["data"] == {"name": "\ufffd"}
            assert hub.metrics.invalid_text >= len(others)
        await sender.request({"type": "publish", "channel": "chat:room", "data": {"n": 2}}, 9)
        for client in others:
            assert (await _pub(client))["data"] == {"n": 2}

        # History and recovery still work, for the old subscribers and for a new one.
        history = await others[0].request({"type": "history", "channel": "chat:room"}, "h")
        assert history["type"] == "reply", history
        datas = [p["data"] for p in history["result"]["publications"]]
        assert datas[0] == {"n": 1} and datas[-1] == {"n": 2}
        late = await Client.connect(url)
        result = await late.subscribe(
            "chat:room", since={"offset": 0, "epoch": history["result"]["epoch"]}
        )
        assert result["recovered"] is True
        replayed = [(await _pub(late))["data"] for _ in datas]
        assert replayed == datas

        health = await asyncio.to_thread(_get, f"{http}/health")
        assert health["metrics"]["connections"] == 4  # nobody was silently dropped
        for client in (sender, *others, late):
            await client.close()


def test_decode_frame_sorts_refusals() -> None:
    assert decode_frame('{"type":"ping","data":"\\ud83d\\ude00"}')["data"] == "\U0001f600"
    with pytest.raises(FrameRefused) as lone:
        decode_frame('{"id":3,"d":"\\ud800"}')
    assert not lone.value.fatal and lone.value.request_id == 3
    with pytest.raises(FrameRefused) as nan:
        decode_frame('{"id":4,"d":NaN}')
    assert not nan.value.fatal and nan.value.request_id == 4
    with pytest.raises(FrameRefused) as deep:
        decode_frame("[" * 5000 + "]" * 5000)
    assert not deep.value.fatal
    with pytest.raises(FrameRefused) as garbage:
        decode_frame("not json")
    assert garbage.value.fatal
    assert clean_text('{"a":"\ud800"}') == '{"a":"\ufffd"}'


def test_log_limiter_logs_once_per_cause(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    limiter = LogLimiter(logging.getLogger("tether.test"), interval=60)
    with caplog.at_level(logging.WARNING, "tether.test"):
        for _ in range(1000):
            limiter.log(logging.WARNING, "a", "cause a")
        limiter.log(logging.WARNING, "b", "cause b")
    assert [r.getMessage() for r in caplog.records] == ["cause a", "cause b"]
