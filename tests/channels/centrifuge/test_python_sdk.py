"""The real ``centrifuge-python`` SDK against tether's Centrifuge endpoint on uvicorn."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from centrifuge import (
    Client,
    ClientEventHandler,
    ConnectedContext,
    DisconnectedContext,
    JoinContext,
    LeaveContext,
    PublicationContext,
    SubscribedContext,
    SubscriptionEventHandler,
    UnsubscribedContext,
)
from centrifuge.exceptions import CentrifugeError as SDKError
from cf_helpers import token

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait (bounded) until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


class Events(ClientEventHandler):
    def __init__(self) -> None:
        self.connected: list[ConnectedContext] = []
        self.disconnected: list[DisconnectedContext] = []
        self.errors: list[Any] = []
        self.server_pubs: list[Any] = []
        self.server_subs: list[Any] = []
        self.server_unsubs: list[Any] = []

    async def on_connected(self, ctx: ConnectedContext) -> None:
        self.connected.append(ctx)

    async def on_disconnected(self, ctx: DisconnectedContext) -> None:
        self.disconnected.append(ctx)

    async def on_error(self, ctx: Any) -> None:
        self.errors.append(ctx)

    async def on_subscribed(self, ctx: Any) -> None:
        self.server_subs.append(ctx)

    async def on_publication(self, ctx: Any) -> None:
        self.server_pubs.append(ctx)

    async def on_unsubscribed(self, ctx: Any) -> None:
        self.server_unsubs.append(ctx)


class SubEvents(SubscriptionEventHandler):
    def __init__(self) -> None:
        self.pubs: list[PublicationContext] = []
        self.subscribed: list[SubscribedContext] = []
        self.unsubscribed: list[UnsubscribedContext] = []
        self.joins: list[JoinContext] = []
        self.leaves: list[LeaveContext] = []
        self.errors: list[Any] = []

    async def on_publication(self, ctx: PublicationContext) -> None:
        self.pubs.append(ctx)

    async def on_subscribed(self, ctx: SubscribedContext) -> None:
        self.subscribed.append(ctx)

    async def on_unsubscribed(self, ctx: UnsubscribedContext) -> None:
        self.unsubscribed.append(ctx)

    async def on_join(self, ctx: JoinContext) -> None:
        self.joins.append(ctx)

    async def on_leave(self, ctx: LeaveContext) -> None:
        self.leaves.append(ctx)

    async def on_error(self, ctx: Any) -> None:
        self.errors.append(ctx)


def client(url: str, **kwargs: Any) -> tuple[Client, Events]:
    events = Events()
    kwargs.setdefault("token", token())
    return Client(url, events=events, **kwargs), events


async def test_connect_subscribe_publish_presence_history_rpc(served: Any) -> None:
    url, _ = served
    alice, alice_events = client(url)
    bob, _ = client(url, token=token("bob", info={"name": "Bob"}))
    await alice.connect()
    await bob.connect()
    await alice.ready(5)
    await bob.ready(5)
    assert alice_events.connected[0].client
    seen = SubEvents()
    sub = alice.new_subscription("chat:room", events=seen, join_leave=True)
    await sub.subscribe()
    await sub.ready(5)
    assert seen.subscribed[0].recoverable and seen.subscribed[0].positioned
    bob_seen = SubEvents()
    bob_sub = bob.new_subscription("chat:room", events=bob_seen)
    await bob_sub.subscribe()
    await bob_sub.ready(5)
    await until(lambda: any(j.info.user == "bob" for j in seen.joins))
    joined = next(j for j in seen.joins if j.info.user == "bob")
    assert joined.info.conn_info == {"name": "Bob"}

    for n in range(1, 6):
        await bob_sub.publish({"n": n})
    await until(lambda: len(seen.pubs) == 5)
    assert [p.pub.data["n"] for p in seen.pubs] == [1, 2, 3, 4, 5]
    assert [p.pub.offset for p in seen.pubs] == [1, 2, 3, 4, 5]

    presence = await sub.presence()
    assert sorted(info.user for info in presence.clients.values()) == ["alice", "bob"]
    stats = await sub.presence_stats()
    assert (stats.num_clients, stats.num_users) == (2, 2)

    history = await sub.history(limit=-1)
    assert [p.data["n"] for p in history.publications] == [1, 2, 3, 4, 5]
    assert history.offset == 5 and history.epoch == seen.subscribed[0].stream_position.epoch
    newest = await sub.history(limit=2, reverse=True)
    assert [p.offset for p in newest.publications] == [5, 4]
    from centrifuge import StreamPosition

    since = await sub.history(since=StreamPosition(offset=2, epoch=history.epoch), limit=2)
    assert [p.offset for p in since.publications] == [3, 4]
    top = await sub.history(limit=0)
    assert top.publications == [] and top.offset == 5

    result = await alice.rpc("sum", {"a": 2, "b": 3})
    assert result.data == {"sum": 5, "user": "alice"}
    with pytest.raises(SDKError) as failed:
        await alice.rpc("fail", None)
    assert failed.value.code == 1001
    with pytest.raises(SDKError) as missing:
        await alice.rpc("nope", None)
    assert missing.value.code == 104
    with pytest.raises(SDKError) as bad:
        await alice.rpc("sum", {"a": "x"})
    assert bad.value.code == 107

    await bob_sub.unsubscribe()
    await until(lambda: len(seen.leaves) == 1)
    assert seen.leaves[0].info.user == "bob"
    await bob.disconnect()
    await alice.disconnect()


async def test_news_is_not_client_publishable_and_errors_carry_codes(served: Any) -> None:
    url, _ = served
    alice, _ = client(url)
    await alice.connect()
    sub = alice.new_subscription("news:world")
    await sub.subscribe()
    await sub.ready(5)
    with pytest.raises(SDKError) as denied:
        await sub.publish({"x": 1})
    assert denied.value.code == 103
    with pytest.raises(SDKError) as unavailable:
        await sub.presence()
    assert unavailable.value.code == 108
    await alice.disconnect()


async def test_connection_token_refresh_keeps_the_connection(served: Any) -> None:
    url, _ = served
    calls: list[float] = []

    async def get_token() -> str:
        calls.append(time.monotonic())
        return token(ttl=2)

    alice, events = client(url, token=token(ttl=2), get_token=get_token)
    await alice.connect()
    await alice.ready(5)
    await until(lambda: len(calls) >= 2, timeout=8)
    result = await alice.rpc("sum", {"a": 1, "b": 1})
    assert result.data["sum"] == 2
    assert len(events.connected) == 1 and not events.disconnected
    await alice.disconnect()


async def test_expired_connection_is_closed_when_not_refreshed() -> None:
    from cf_app import make_app

    from servers import uvicorn_thread

    app, _ = make_app(expiry_grace=0.2)
    with uvicorn_thread(app) as base:
        url = base.replace("http://", "ws://") + "/connection/websocket"
        # exp is whole seconds: ttl=3 leaves 2 to 3 s, enough to connect on a loaded machine
        # (1.5 left as little as half a second, and the first connect was refused).
        alice, events = client(url, token=token(ttl=3))
        await alice.connect()
        await alice.ready(5)
        # Closed with 3005 (reconnect); the reconnect with the same, now expired, token is
        # answered 109 and, with no get_token to call, the SDK stops as unauthorized
        # instead of retrying forever.
        await until(lambda: bool(events.disconnected), timeout=12)
        assert events.disconnected[-1].code == 1
        assert len(events.connected) == 1
        await alice.disconnect()


async def test_subscription_token_and_sub_refresh(served: Any) -> None:
    url, _ = served
    alice, _ = client(url)
    await alice.connect()
    refreshed: list[str] = []

    async def get_sub_token(channel: str) -> str:
        refreshed.append(channel)
        return token("alice", ttl=2, channel=channel)

    seen = SubEvents()
    sub = alice.new_subscription(
        "news:private",
        events=seen,
        token=token("alice", ttl=2, channel="news:private"),
        get_token=get_sub_token,
    )
    await sub.subscribe()
    await sub.ready(5)
    await until(lambda: len(refreshed) >= 1, timeout=8)
    assert not seen.unsubscribed
    assert len(seen.subscribed) == 1

    foreign = alice.new_subscription("news:other", token=token("mallory", channel="news:other"))
    errors = SubEvents()
    foreign.events = errors
    await foreign.subscribe()
    await until(lambda: bool(errors.unsubscribed) or bool(errors.errors), timeout=5)
    await alice.disconnect()


async def test_anonymous_and_refused_connections() -> None:
    from cf_app import make_app

    from servers import uvicorn_thread

    app, _ = make_app(anonymous=True)
    with uvicorn_thread(app) as base:
        url = base.replace("http://", "ws://") + "/connection/websocket"
        guest, events = client(url, token="")
        await guest.connect()
        await guest.ready(5)
        assert events.connected
        await guest.disconnect()

    app, _ = make_app()
    with uvicorn_thread(app) as base:
        url = base.replace("http://", "ws://") + "/connection/websocket"
        refused, events = client(url, token="")
        await refused.connect()
        await until(lambda: bool(events.disconnected), timeout=5)
        # Unauthorized is final: the SDK does not come back.
        await asyncio.sleep(0)
        assert events.disconnected[-1].code == 101
        forged, events = client(url, token=token().replace("a", "b", 3) + "x")
        await forged.connect()
        await until(lambda: bool(events.disconnected), timeout=5)
        assert events.disconnected[-1].code == 3500
        await refused.disconnect()
        await forged.disconnect()


async def test_server_side_subscriptions_from_token_and_api(served: Any) -> None:
    url, endpoint = served
    alice, events = client(url, token=token("alice", channels=["news:alice"]))
    await alice.connect()
    await alice.ready(5)
    await until(lambda: bool(events.server_subs))
    hub = endpoint.hub
    await hub.publish("news:alice", {"n": 1})
    await until(lambda: len(events.server_pubs) == 1)
    assert events.server_pubs[0].pub.data == {"n": 1}
    await endpoint.subscribe("alice", "news:extra")
    await until(lambda: len(events.server_subs) == 2)
    await hub.publish("news:extra", {"n": 2})
    await until(lambda: len(events.server_pubs) == 2)
    await endpoint.unsubscribe("alice", "news:extra")
    await until(lambda: [u.channel for u in events.server_unsubs] == ["news:extra"])
    await alice.disconnect()


@pytest.mark.redis
async def test_server_side_commands_reach_every_node_through_redis() -> None:
    import secrets

    from cf_app import make_app

    from servers import redis_url, uvicorn_thread

    broker = f"{redis_url()}?prefix=cf{secrets.token_hex(4)}"
    (app_a, node_a), (app_b, node_b) = make_app(broker), make_app(broker)
    with uvicorn_thread(app_a) as url_a, uvicorn_thread(app_b) as url_b:
        clients = []
        for url in (url_a, url_b):
            ws_url = url.replace("http://", "ws://") + "/connection/websocket"
            clients.append(client(ws_url, token=token("carol")))
        for sdk, _ in clients:
            await sdk.connect()
            await sdk.ready(5)
        # Commands are sent from node B; the connection on node A obeys too.
        await node_b.subscribe("carol", "news:carol")
        for _, events in clients:
            await until(lambda events=events: len(events.server_subs) == 1)
        await node_a.hub.publish("news:carol", {"n": 1})
        for _, events in clients:
            await until(lambda events=events: len(events.server_pubs) == 1)
        await node_b.disconnect("carol")
        for _, events in clients:
            await until(lambda events=events: bool(events.disconnected))
            assert events.disconnected[-1].code == 3503  # force disconnect: no reconnect
        for sdk, _ in clients:
            await sdk.disconnect()
