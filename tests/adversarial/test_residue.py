"""Hostile sessions leave nothing behind: no task, no connection counted, no WebSocket object.

Against the shared target server (conftest.py), every kind of abuse the rest of the suite
tries, repeated, each connection ended the rude way (TCP reset, half a frame, a flood the
client never reads); then the server's own view (``/_residue``, read in its loop) must come
back to what it was before, within seconds.
"""

from __future__ import annotations

import json
import socket
import struct
import time
import urllib.request
from typing import Any

import pytest

from rawws import BINARY, CLOSE, TEXT, RawWebSocket, frame_bytes

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def residue(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_residue", timeout=10) as answer:
        return dict(json.loads(answer.read()))


def reset(ws: RawWebSocket) -> None:
    """Drop the TCP connection with a reset, no close frame."""
    ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    ws.close()


def abuse(port: int, round_: int) -> None:
    # A reset right after the handshake, and one in the middle of a frame.
    with RawWebSocket.open(port) as ws:
        assert ws.handshake("/echo").status == 101
        reset(ws)
    with RawWebSocket.open(port) as ws:
        assert ws.handshake("/echo").status == 101
        ws.send_raw(frame_bytes(TEXT, b"x" * 1000)[:40])
        reset(ws)
    # An oversized message (closed 1009), then a flood nobody reads (closed 1013).
    with RawWebSocket.open(port) as ws:
        assert ws.handshake("/echo").status == 101
        ws.send_frame(BINARY, b"\0" * ((1 << 20) + 1))
        reset(ws)
    with RawWebSocket.open(port) as ws:
        assert ws.handshake("/echo").status == 101
        for n in range(600):
            ws.send_text(f"{round_}:{n}")
        reset(ws)
    # A channels client that subscribes and vanishes; one that says nothing and leaves.
    with RawWebSocket.open(port) as ws:
        assert ws.handshake("/channels").status == 101
        frame: dict[str, Any] = {"type": "subscribe", "channel": f"room:r{round_}", "id": 1}
        ws.send_text(json.dumps(frame))
        reset(ws)
    with RawWebSocket.open(port) as ws:
        assert ws.handshake("/channels").status == 101
        ws.send_frame(CLOSE, struct.pack("!H", 1000))
    # A handshake that fails after accept and one refused before (errors are expected here).
    with RawWebSocket.open(port) as ws:
        assert ws.handshake("/items/not-a-number").status == 422
    with RawWebSocket.open(port) as ws:
        ws.send_raw(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n")
        reset(ws)


def test_hostile_sessions_leave_nothing_behind(target: tuple[object, int]) -> None:
    port = target[1]
    before = residue(port)
    for round_ in range(5):
        abuse(port, round_)
    deadline = time.monotonic() + 20
    while True:
        after = residue(port)
        settled = (
            after["tasks"] <= before["tasks"]
            and after["websockets"] <= before["websockets"]
            and after["hub_connections"] == 0
            and after["admitted"] == 0
            and after["waiting"] == 0
        )
        if settled:
            break
        assert time.monotonic() < deadline, f"left behind: {after} (before: {before})"
        time.sleep(0.2)
