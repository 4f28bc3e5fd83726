"""A channels node for the hostile-client tests run in their own process (``uvicorn hostile_app:app``).

TETHER_CHANNELS_BROKER   broker URL (with ?prefix=)
"""

from __future__ import annotations

import os

from tether import Tether
from tether.channels import ChannelOptions, Channels

channels = Channels(
    os.environ["TETHER_CHANNELS_BROKER"],
    namespaces={"chat": ChannelOptions(history_size=100, presence=True, client_publish=True)},
)
app = Tether(lifespan=channels.lifespan)
app.add_websocket_route("/channels", channels.endpoint)
app.add_route("/health", channels.health_endpoint)
