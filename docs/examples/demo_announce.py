"""Post an announcement into a chat demo room from a script: no server, just the broker.

    python docs/examples/demo_announce.py redis://127.0.0.1:6379/0 lobby "Deploy at 18:00"

Every page in ``#lobby`` shows it at once, and pages that are offline get it when they
reconnect (it is in the room's history like any other message).
"""

from __future__ import annotations

import asyncio
import sys
import time

from tether.channels import Emitter
from tether.demo.app import room_namespaces


async def announce(broker: str, room: str, text: str) -> int:
    """Publish ``text`` to ``room:<room>`` as "announcer"; return the message's offset."""
    message = {"name": "announcer", "text": text, "ts": int(time.time() * 1000)}
    async with Emitter(broker, namespaces=room_namespaces()) as emitter:
        position = await emitter.publish(f"room:{room}", message)
    return position.offset


if __name__ == "__main__":
    broker_url, room_name, announcement = sys.argv[1:4]
    print(asyncio.run(announce(broker_url, room_name, announcement)))
