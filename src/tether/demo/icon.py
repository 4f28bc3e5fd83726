"""The demo's ``/favicon.ico``: a 16x16 PNG in an ICO container, drawn here (no binary file).

A ring in the demo's accent colour on a transparent background. Browsers ask for
``/favicon.ico`` whatever the page says; answering it keeps their consoles free of 404s.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["favicon"]

SIZE = 16
ACCENT = (0x3B, 0x6C, 0xF5, 0xFF)


def _pixel(x: int, y: int) -> tuple[int, int, int, int]:
    distance = ((x - 7.5) ** 2 + (y - 7.5) ** 2) ** 0.5
    return ACCENT if 4.0 <= distance <= 7.0 else (0, 0, 0, 0)


def _png() -> bytes:
    rows = b"".join(
        b"\x00" + b"".join(bytes(_pixel(x, y)) for x in range(SIZE)) for y in range(SIZE)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def favicon() -> bytes:
    """The ICO file: one 16x16 image stored as PNG (read by every current browser)."""
    png = _png()
    directory = struct.pack("<HHH", 0, 1, 1)
    entry = struct.pack("<BBBBHHII", SIZE, SIZE, 0, 0, 1, 32, len(png), 6 + 16)
    return directory + entry + png
