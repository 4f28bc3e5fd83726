"""A raw-socket WebSocket client for tests that must send what no well-behaved client sends.

Written from RFC 6455 (sections 4.1, 5.2 and 5.5): a handshake whose every header the test
chooses, frames with any opcode, flag, mask and payload, and a reader that returns the server's
frames as they are, so a test can assert the exact close code and reason. Every read has a
deadline: a server that does not answer fails the test instead of hanging it.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

TEXT, BINARY, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x2, 0x0, 0x8, 0x9, 0xA


@dataclass
class Response:
    """The server's answer to a handshake: status, headers (lower-cased names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Frame:
    """One frame read from the server."""

    opcode: int
    payload: bytes
    fin: bool = True

    @property
    def close_code(self) -> int | None:
        """The close code of a close frame (None when it carries none)."""
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    @property
    def close_reason(self) -> str:
        """The close reason of a close frame."""
        return self.payload[2:].decode("utf-8")


def new_key() -> str:
    """A fresh ``Sec-WebSocket-Key``: 16 random bytes, base64."""
    return base64.b64encode(os.urandom(16)).decode("ascii")


def frame_bytes(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    mask: bool = True,
    rsv: int = 0,
    length: int | None = None,
) -> bytes:
    """Encode one frame; ``length`` overrides the announced payload length (lies included)."""
    announced = len(payload) if length is None else length
    head = bytearray([(0x80 if fin else 0) | (rsv << 4) | opcode])
    mask_bit = 0x80 if mask else 0
    if announced < 126:
        head.append(mask_bit | announced)
    elif announced < 1 << 16:
        head.append(mask_bit | 126)
        head += struct.pack("!H", announced)
    else:
        head.append(mask_bit | 127)
        head += struct.pack("!Q", announced)
    if not mask:
        return bytes(head) + payload
    key = os.urandom(4)
    masked = bytes(byte ^ key[i % 4] for i, byte in enumerate(payload))
    return bytes(head) + key + masked


def close_payload(code: int, reason: bytes = b"") -> bytes:
    """The payload of a close frame."""
    return struct.pack("!H", code) + reason


@dataclass
class RawWebSocket:
    """One TCP connection to a server, speaking (or misspeaking) WebSocket by hand."""

    sock: socket.socket
    buffer: bytearray = field(default_factory=bytearray)
    timeout: float = 5.0

    @classmethod
    def open(cls, port: int, timeout: float = 5.0) -> RawWebSocket:
        """Connect to 127.0.0.1:``port`` (no handshake yet)."""
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        return cls(sock, timeout=timeout)

    def close(self) -> None:
        """Close the TCP connection."""
        self.sock.close()

    def __enter__(self) -> RawWebSocket:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send_raw(self, data: bytes) -> None:
        """Write bytes as they are."""
        self.sock.sendall(data)

    def handshake(
        self,
        path: str = "/",
        headers: Sequence[tuple[str, str]] | None = None,
        *,
        host: str | None = None,
    ) -> Response:
        """Send an upgrade request (``headers`` replace the defaults of the same name)."""
        port = self.sock.getpeername()[1]
        defaults = {
            "host": host or f"127.0.0.1:{port}",
            "upgrade": "websocket",
            "connection": "Upgrade",
            "sec-websocket-key": new_key(),
            "sec-websocket-version": "13",
        }
        given = list(headers or [])
        names = {name.lower() for name, _ in given}
        lines = [f"GET {path} HTTP/1.1"]
        lines += [f"{name}: {value}" for name, value in defaults.items() if name not in names]
        lines += [f"{name}: {value}" for name, value in given]
        self.send_raw(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        return self.read_response()

    def _fill(self, deadline: float) -> bool:
        """Read more bytes into the buffer; False when the server closed the connection."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the server sent nothing in time")
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def read_response(self) -> Response:
        """Read an HTTP response head and, with ``Content-Length``, its body."""
        deadline = time.monotonic() + self.timeout
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill(deadline):
                raise ConnectionError(f"connection closed before a response: {self.buffer!r}")
        head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.buffer = bytearray(rest)
        status = int(status_line.split()[1])
        if status == 101:
            return Response(status, headers)
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length and self._fill(deadline):
            pass
        body = bytes(self.buffer[:length])
        del self.buffer[:length]
        return Response(status, headers, body)

    def send_frame(self, opcode: int, payload: bytes = b"", **options: object) -> None:
        """Send one frame (options as :func:`frame_bytes`)."""
        self.send_raw(frame_bytes(opcode, payload, **options))  # type: ignore[arg-type]

    def send_text(self, text: str) -> None:
        """Send one masked text frame."""
        self.send_frame(TEXT, text.encode("utf-8"))

    def _take(self, count: int, deadline: float) -> bytes:
        while len(self.buffer) < count:
            if not self._fill(deadline):
                raise ConnectionError("the server closed the TCP connection mid-frame")
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def read_frame(self) -> Frame | None:
        """The next frame from the server; None when the TCP connection ended first."""
        deadline = time.monotonic() + self.timeout
        while len(self.buffer) < 2:
            if not self._fill(deadline):
                return None
        first, second = self._take(2, deadline)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._take(2, deadline))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._take(8, deadline))[0]
        return Frame(first & 0x0F, self._take(length, deadline), bool(first & 0x80))

    def read_until_close(self, limit: int = 10_000) -> tuple[list[Frame], Frame | None]:
        """Data frames, then the close frame (None when TCP ended without one)."""
        frames: list[Frame] = []
        for _ in range(limit):
            frame = self.read_frame()
            if frame is None or frame.opcode == CLOSE:
                return frames, frame
            frames.append(frame)
        raise AssertionError(f"no close within {limit} frames")

    def wait_eof(self) -> bool:
        """True when the server ends the TCP connection within the timeout."""
        deadline = time.monotonic() + self.timeout
        try:
            while self._fill(deadline):
                self.buffer.clear()
        except TimeoutError:
            return False
        except OSError:  # reset by the server: ended too
            return True
        return True
