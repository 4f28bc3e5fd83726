"""Fuzzing the channels protocol on a real server while a well-behaved client keeps its delivery.

An attacker connection sends hypothesis-generated frames: wrong types in every field, unknown
types, huge and control-character channel names, bogus ``since`` positions. Each frame must get
a coded error frame or a reply (never a 1011 close, never a traceback), and a second client
subscribed to a channel must receive every publication made meanwhile, in order.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from servers import uvicorn_thread
from tether import Tether
from tether.channels import ChannelOptions, Channels
from tether.limits import WebSocketLimits

pytestmark = [pytest.mark.adversarial, pytest.mark.integration, pytest.mark.timeout(60)]

ERROR_CODES = {"bad_request", "bad_channel", "forbidden", "limit_exceeded", "not_subscribed"}
INTERNALS = ("Traceback", 'File "', ".py", "tether.", "Error:", "Exception")


def fuzz_app() -> Tether:
    channels = Channels("memory://", namespaces={"room": ChannelOptions(client_publish=True)})
    # The fuzzing connection sends faster than the default rate: lift it for this app only
    # (the flood test below uses the defaults).
    app = Tether(
        lifespan=channels.lifespan, limits=WebSocketLimits.recommended(messages_per_second=None)
    )
    app.add_websocket_route("/channels", channels.endpoint)
    app.state.channels = channels
    return app


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Tether, str]]:
    app = fuzz_app()
    with uvicorn_thread(app) as base:
        yield app, base.replace("http://", "ws://") + "/channels"


class Watcher:
    """The well-behaved client: subscribed to room:watch, it records what it receives."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        assert json.loads(self.ws.recv(5))["type"] == "connected"
        self.ws.send(json.dumps({"id": 1, "type": "subscribe", "channel": "room:watch"}))
        assert json.loads(self.ws.recv(5))["type"] == "reply"
        self.received: list[Any] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for text in self.ws:
                frame = json.loads(text)
                if frame["type"] == "pub":
                    self.received.append(frame["data"])
        except ConnectionClosed:
            pass


def frames() -> st.SearchStrategy[dict[str, Any]]:
    anything = st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**40), 2**40)
        | st.floats()
        | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=6,
    )
    names = (
        st.text(max_size=30)
        | st.text(alphabet=st.characters(max_codepoint=31), min_size=1, max_size=10).map(
            lambda s: "room:" + s
        )
        | st.just("room:" + "x" * 100_000)
        | st.sampled_from(["room:watch", "room:", ":", "room:a:b", "unregistered:x"])
        | anything
    )
    since = (
        st.fixed_dictionaries(
            {"offset": st.integers(-(2**31), 2**40), "epoch": st.text(max_size=12)}
        )
        | anything
    )
    # Shapes issue 21.5 names (an unhashable type, a boolean offset, offsets >= 1e14, deep
    # nesting) are left to tests/adversarial/test_known_defects.py.
    return st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                ["subscribe", "unsubscribe", "publish", "presence", "history", "ping", "nope", ""]
            )
            | st.none()
            | st.integers()
            | st.text(max_size=8),
        },
        optional={
            "id": st.none() | st.integers(-(2**31), 2**31) | st.text(max_size=8),
            "channel": names,
            "since": since,
            "data": anything,
            "limit": st.none() | st.integers(-5, 50) | st.text(max_size=3),
            "count_only": st.booleans() | anything,
        },
    )  # fmt: skip


def answer_to(ws: ClientConnection) -> dict[str, Any]:
    """The next frame that is not a publication or presence event."""
    while True:
        frame = json.loads(ws.recv(5))
        if frame["type"] not in ("pub", "join", "leave", "unsubscribed"):
            return dict(frame)


def test_fuzzed_frames_get_coded_answers_and_the_watcher_loses_nothing(
    server: tuple[Tether, str],
) -> None:
    url = server[1]
    with (
        connect(url, open_timeout=5) as watching,
        connect(url, open_timeout=5, max_size=None) as attacker,
        connect(url, open_timeout=5) as publisher,  # a third, well-behaved client publishes
    ):
        watcher = Watcher(watching)
        assert json.loads(attacker.recv(5))["type"] == "connected"
        assert json.loads(publisher.recv(5))["type"] == "connected"
        fuzz(attacker, publisher, watcher)
        watcher.thread.join(5)


def fuzz(attacker: ClientConnection, publisher: ClientConnection, watcher: Watcher) -> None:
    """Send fuzzed frames, publishing one message for the watcher after each."""
    published: list[int] = []

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(frame=frames())
    def attack(frame: dict[str, Any]) -> None:
        attacker.send(json.dumps(frame))
        answer = answer_to(attacker)
        text = json.dumps(answer)
        assert not any(marker in text for marker in INTERNALS), text
        if answer["type"] == "error":
            assert answer["error"]["code"] in ERROR_CODES, answer
        else:
            assert answer["type"] in ("reply", "pong"), answer
        n = len(published)
        publisher.send(json.dumps({"id": n, "type": "publish", "channel": "room:watch", "data": n}))
        assert answer_to(publisher)["type"] == "reply"
        published.append(n)

    attack()
    deadline_wait(lambda: len(watcher.received) >= len(published))
    assert watcher.received[: len(published)] == published


def deadline_wait(condition: Any, timeout: float = 10.0) -> None:
    """Wait (bounded) until ``condition()`` holds."""
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_a_request_flood_under_the_default_limits_is_closed_1013_and_others_are_unaffected() -> (
    None
):
    channels = Channels("memory://", namespaces={"room": ChannelOptions(client_publish=True)})
    app = Tether(lifespan=channels.lifespan)  # the defaults: 100 per second, bursts of 200
    app.add_websocket_route("/channels", channels.endpoint)
    with uvicorn_thread(app) as base:
        url = base.replace("http://", "ws://") + "/channels"
        with connect(url, open_timeout=5) as bystander, connect(url, open_timeout=5) as flooder:
            flood(bystander, flooder)


def flood(bystander: ClientConnection, flooder: ClientConnection) -> None:
    """1,000 pings as fast as the socket takes them: closed 1013, the bystander still served."""
    assert json.loads(bystander.recv(5))["type"] == "connected"
    assert json.loads(flooder.recv(5))["type"] == "connected"
    ping = json.dumps({"type": "ping", "id": 0})
    try:
        for _ in range(1000):
            flooder.send(ping)
    except ConnectionClosed:
        pass
    with pytest.raises(ConnectionClosed) as info:
        while True:
            flooder.recv(5)
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (1013, "rate limit exceeded")
    bystander.send(json.dumps({"type": "ping", "id": 7}))
    assert json.loads(bystander.recv(5)) == {"type": "pong", "id": 7}
