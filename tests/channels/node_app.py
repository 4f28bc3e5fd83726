"""One tether node for the multi-process tests: ``uvicorn node_app:app`` with env settings.

TETHER_CHANNELS_BROKER   broker URL (with ?prefix=)
TETHER_PRESENCE_TTL      presence TTL in seconds (default 30)
TETHER_QUEUE_BYTES       per-connection outbound queue cap (default 1 MiB)
TETHER_WRITE_TIMEOUT     per-send write timeout in seconds (default 10)
"""

from __future__ import annotations

import os

from tether import Tether
from tether.channels import ChannelOptions, Channels, ConnectionLimits
from tether.limits import WebSocketLimits

channels = Channels(
    os.environ["TETHER_CHANNELS_BROKER"],
    namespaces={
        "chat": ChannelOptions(
            history_size=5000,
            history_ttl=600,
            presence=True,
            join_leave=True,
            client_publish=True,
        )
    },
    limits=ConnectionLimits(
        max_queue_bytes=int(os.environ.get("TETHER_QUEUE_BYTES", 1 << 20)),
        write_timeout=float(os.environ.get("TETHER_WRITE_TIMEOUT", 10)),
    ),
    presence_ttl=float(os.environ.get("TETHER_PRESENCE_TTL", 30)),
)
# The multi-node tests publish thousands of numbered messages from one client as fast as the
# broker takes them; the default per-connection rate limit (100/s, bursts of 200) would close
# that client, which is what the limits tests check, not these.
app = Tether(lifespan=channels.lifespan, limits=WebSocketLimits.none())
app.add_websocket_route("/channels", channels.endpoint)
app.add_route("/health", channels.health_endpoint)
