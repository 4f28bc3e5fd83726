"""Channels on a Redis Cluster: hash-tagged keys, sharded pub/sub, failovers and slot moves.

The fault tests start a private cluster (three masters with a replica each, on free ports;
tests/servers.py) and two tether nodes on uvicorn, publish numbered messages at a steady rate
through both nodes while the channel's master changes or its slot moves, and then count (the
accounting of test_redis_sentinel.py): every acknowledged publication reached every subscriber
once and in order, unless a session ended with an explicit signal and the next one said
``recovered: false``. The contract suite runs on a cluster too (test_contract.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from test_multinode import wait_until

from servers import RedisClusterGroup, redis_cli
from tether.channels.backends import backend_from_url
from tether.channels.backends.redis_cluster import (
    ClusterSettings,
    RedisClusterBackend,
    parse_cluster_url,
)
from tether.channels.options import ChannelOptions


def test_cluster_urls_are_parsed() -> None:
    settings, options = parse_cluster_url(
        "redis+cluster://app:s%40cret@10.0.0.1:7001,node-b/?prefix=shop&max_connections=20"
    )
    assert settings == ClusterSettings(
        hosts=(("10.0.0.1", 7001), ("node-b", 6379)), username="app", password="s@cret"
    )
    assert options == {"prefix": "shop", "max_connections": "20"}
    backend = backend_from_url("redis+cluster://127.0.0.1:7000,127.0.0.1:7001?prefix=p")
    assert isinstance(backend, RedisClusterBackend)
    assert backend.prefix == "p" and backend.url == "redis+cluster://127.0.0.1:7000,127.0.0.1:7001"
    assert backend.cluster.hosts == (("127.0.0.1", 7000), ("127.0.0.1", 7001))


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis+cluster://", "redis\\+cluster://host:port"),
        ("redis+cluster://u:hunter2@127.0.0.1:7000/3", "only database 0"),
        ("redis+cluster://127.0.0.1:port", "not a port number"),
    ],
)
def test_bad_cluster_urls_are_refused_clearly(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        parse_cluster_url(url)
    assert "hunter2" not in str(caught.value)  # the password never reaches a message


def test_every_key_of_a_channel_shares_one_slot() -> None:
    crc = pytest.importorskip("redis.crc")
    backend = RedisClusterBackend(prefix="app")
    for channel in ("chat:room", "odd{name}", "}{", "émoji:🙂"):
        keys = [backend._key(kind, channel).encode() for kind in ("m", "h", "c", "p", "pe")]
        assert len({crc.key_slot(key) for key in keys}) == 1, channel
        assert backend._channel_of(backend._key("c", channel).encode()) == channel
    slots = {crc.key_slot(backend._key("m", f"room{n}").encode()) for n in range(50)}
    assert len(slots) > 40  # channels spread over the cluster


@pytest.fixture
def cluster() -> Iterator[RedisClusterGroup]:
    with RedisClusterGroup() as group:
        yield group


class _Listener:
    def __init__(self) -> None:
        self.publications: list[Any] = []
        self.resubscribed = 0

    def on_publication(self, publication: Any) -> None:
        self.publications.append(publication)

    def on_presence_event(self, *args: Any) -> None: ...

    def on_resubscribed(self) -> None:
        self.resubscribed += 1

    def on_broker_state(self, available: bool) -> None: ...


@pytest.mark.integration
@pytest.mark.redis
@pytest.mark.timeout(90)
async def test_publications_reach_only_the_owning_shard(cluster: RedisClusterGroup) -> None:
    """SPUBLISH goes to the master that owns the channel; the keys sit on that master."""
    backend = RedisClusterBackend.from_url(cluster.url + "?prefix=own")
    listener = _Listener()
    await backend.start(listener)  # type: ignore[arg-type]
    try:
        await backend.subscribe("news")
        position = await backend.publish("news", '"one"', ChannelOptions(history_size=5))
        await wait_until(lambda: len(listener.publications) == 1, 5, "the publication")
        assert listener.publications[0].offset == position.offset == 1
        owner = cluster.owner_of(cluster.slot_of("{own:news}:m"))
        for server in cluster.alive():
            numsub = redis_cli(server.port, "PUBSUB", "SHARDNUMSUB", "{own:news}:c").split()
            expected = "1" if server is owner else "0"
            assert numsub[-1] == expected, server.port
        assert redis_cli(owner.port, "EXISTS", "{own:news}:m", "{own:news}:h") == "2"
    finally:
        await backend.stop()
