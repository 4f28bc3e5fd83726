"""Malformed handshakes and frames, sent with raw sockets to a default app on uvicorn.

Each case asserts the exact answer (status and body, or close code and reason) and that the
server is unharmed: a well-formed client is served right after. Handshake and frame parsing is
uvicorn's (websockets-sansio); what tether adds is checked too: routing denials, the size
limit on a fragmented message, and no ERROR logged by tether for any of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from rawws import BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, RawWebSocket, close_payload

pytestmark = [pytest.mark.adversarial, pytest.mark.integration, pytest.mark.timeout(30)]


def assert_healthy(port: int) -> None:
    """A well-formed client still gets its echo."""
    with RawWebSocket.open(port) as ws:
        assert ws.handshake("/echo").status == 101
        ws.send_text("still here")
        frame = ws.read_frame()
        assert frame is not None and (frame.opcode, frame.payload) == (TEXT, b"still here")


def tether_errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("tether") and record.levelno >= logging.ERROR
    ]


HANDSHAKES: list[tuple[str, list[tuple[str, str]], str, int, bytes]] = [
    (
        "header flood",
        [(f"x-h{i}", "v") for i in range(5000)],
        "/echo",
        431,
        b"Failed to open a WebSocket connection: expected no more than 128 headers.\n",
    ),
    (
        "oversized header",
        [("x-big", "a" * 200_000)],
        "/echo",
        431,
        b"Failed to open a WebSocket connection: read 200009 bytes, "
        b"expected no more than 8192 bytes.\n",
    ),
    (
        "Sec-WebSocket-Key not base64",
        [("sec-websocket-key", "not-base64!!")],
        "/echo",
        400,
        b"Failed to open a WebSocket connection: invalid Sec-WebSocket-Key header: not-base64!!; "
        b"Only base64 data is allowed.\n",
    ),
    (
        "Sec-WebSocket-Key of 5 bytes",
        [("sec-websocket-key", "c2hvcnQ=")],
        "/echo",
        400,
        b"Failed to open a WebSocket connection: invalid Sec-WebSocket-Key header: c2hvcnQ=.\n",
    ),
    (
        "Sec-WebSocket-Version 8",
        [("sec-websocket-version", "8")],
        "/echo",
        400,
        b"Failed to open a WebSocket connection: invalid Sec-WebSocket-Version header: 8.\n",
    ),
    ("not an upgrade: plain HTTP", [("upgrade", "h2c")], "/echo", 404, b'{"detail":"Not Found"}'),
    ("unknown path", [], "/nowhere", 404, b'{"detail":"Not Found"}'),
    ("missing token", [], "/private", 401, b'{"detail":"Not authenticated"}'),
]


@pytest.mark.parametrize(
    ("headers", "path", "status", "body"),
    [case[1:] for case in HANDSHAKES],
    ids=[case[0] for case in HANDSHAKES],
)
def test_bad_handshakes(
    port: int,
    caplog: pytest.LogCaptureFixture,
    headers: list[tuple[str, str]],
    path: str,
    status: int,
    body: bytes,
) -> None:
    with RawWebSocket.open(port) as ws:
        response = ws.handshake(path, headers)
    assert (response.status, response.body) == (status, body)
    assert tether_errors(caplog) == []
    assert_healthy(port)


def test_garbage_request_line(port: int) -> None:
    with RawWebSocket.open(port) as ws:
        ws.send_raw(b"GARBAGE\r\n\r\n")
        response = ws.read_response()
    assert (response.status, response.body) == (400, b"Invalid HTTP request received.")
    assert_healthy(port)


def test_path_parameter_validation_denial_is_422_json(port: int) -> None:
    with RawWebSocket.open(port) as ws:
        response = ws.handshake("/items/abc")
    assert response.status == 422
    assert response.headers["content-type"] == "application/json"
    assert b'"loc":["path","item_id"]' in response.body


def closed(ws: RawWebSocket) -> tuple[list[tuple[int, bytes]], tuple[int | None, str] | None]:
    frames, close = ws.read_until_close(5000)
    data = [(frame.opcode, frame.payload) for frame in frames]
    return data, (None if close is None else (close.close_code, close.close_reason))


def fragments(ws: RawWebSocket) -> None:
    ws.send_frame(TEXT, b"ab", fin=False)
    ws.send_frame(CONTINUATION, b"cd", fin=False)
    ws.send_frame(CONTINUATION, b"ef")
    frame = ws.read_frame()
    assert frame is not None and (frame.opcode, frame.payload) == (TEXT, b"abcdef")
    ws.send_frame(CLOSE, close_payload(1000))


def oversized_in_fragments(ws: RawWebSocket) -> None:
    for i in range(32):  # 2 MiB in 64 KiB pieces: each fragment is small, the message is not
        ws.send_frame(BINARY if i == 0 else CONTINUATION, b"x" * 65536, fin=i == 31)


def ping_flood(ws: RawWebSocket) -> None:
    for i in range(1000):
        ws.send_frame(PING, str(i).encode())
    ws.send_frame(CLOSE, close_payload(1000))


def unsolicited_pong(ws: RawWebSocket) -> None:
    ws.send_frame(PONG, b"unasked")
    ws.send_text("hi")
    frame = ws.read_frame()
    assert frame is not None and (frame.opcode, frame.payload) == (TEXT, b"hi")
    ws.send_frame(CLOSE, close_payload(1000))


def after_close(ws: RawWebSocket) -> None:
    ws.send_frame(CLOSE, close_payload(1000, b"bye"))
    ws.send_text("after the close")


FRAMES: list[tuple[str, Callable[[RawWebSocket], None], list[tuple[int, bytes]], tuple[int, str]]] = [
    ("invalid UTF-8 text", lambda ws: ws.send_frame(TEXT, b"\xff\xfe"), [], (1007, "")),
    ("fragmented message", fragments, [], (1000, "")),
    ("oversized fragmented message", oversized_in_fragments, [], (1009, "message too big")),
    (
        "announced length over the server's cap",
        lambda ws: ws.send_raw(bytes([0x81, 0xFF]) + (17 << 20).to_bytes(8, "big")),
        [],
        (1009, "frame with 17825792 bytes exceeds limit of 16777216 bytes"),
    ),
    ("ping flood", ping_flood, [(PONG, str(i).encode()) for i in range(1000)], (1000, "")),
    ("unsolicited pong", unsolicited_pong, [], (1000, "")),
    ("frames after close", after_close, [], (1000, "bye")),  # the close echoed, the text ignored
    ("unmasked frame", lambda ws: ws.send_frame(TEXT, b"hi", mask=False), [], (1002, "incorrect masking")),
    ("reserved bits", lambda ws: ws.send_frame(TEXT, b"hi", rsv=4), [], (1002, "reserved bits must be 0")),
    ("long control frame", lambda ws: ws.send_frame(PING, b"x" * 126), [], (1002, "control frame too long")),
    ("fragmented ping", lambda ws: ws.send_frame(PING, b"x", fin=False), [], (1002, "fragmented control frame")),
    ("unknown opcode", lambda ws: ws.send_frame(0x3, b"x"), [], (1002, "invalid opcode")),
    ("stray continuation", lambda ws: ws.send_frame(CONTINUATION, b"x"), [], (1002, "unexpected continuation frame")),
    ("close frame of one byte", lambda ws: ws.send_frame(CLOSE, b"\x03"), [], (1002, "close frame too short")),
    (
        "close reason not UTF-8",
        lambda ws: ws.send_frame(CLOSE, close_payload(1000, b"\xff")),
        [],
        (1007, "invalid start byte at position 0"),
    ),
] + [
    (f"close code {code}", (lambda c: lambda ws: ws.send_frame(CLOSE, close_payload(c)))(code), [], (1002, "invalid status code"))
    for code in (0, 999, 1004, 1005, 1006, 1015, 2999, 5000)
]  # fmt: skip


@pytest.mark.parametrize(
    ("act", "frames", "close"),
    [case[1:] for case in FRAMES],
    ids=[case[0] for case in FRAMES],
)
def test_bad_frames(
    target: tuple[object, int],
    caplog: pytest.LogCaptureFixture,
    act: Callable[[RawWebSocket], None],
    frames: list[tuple[int, bytes]],
    close: tuple[int, str],
) -> None:
    port = target[1]
    with RawWebSocket.open(port) as ws:
        assert ws.handshake("/echo").status == 101
        act(ws)
        assert closed(ws) == (frames, close)
    assert tether_errors(caplog) == []
    assert_healthy(port)
