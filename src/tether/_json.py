"""The JSON codec behind ``send_json``/``receive_json``: orjson when installed, else stdlib.

The text is the same whichever codec runs, and it is the text the peer sends:
``json.dumps(obj, separators=(",", ":"), ensure_ascii=False)``. Where orjson would write
something else, the stdlib encoder writes it instead:

* floats below 1e-4 (orjson writes ``0.000015`` and ``2.5e-7``, Python ``1.5e-05`` and
  ``2.5e-07``): detected in orjson's output, re-encoded by the stdlib;
* non-``str`` dict keys, integers beyond 64 bits, subclasses of builtins (``IntEnum``,
  ``str`` subclasses), dataclasses and datetimes: orjson refuses them (we ask it to), the
  stdlib encodes what it can and raises ``TypeError`` for the rest;
* ``UUID`` and plain ``Enum`` values, which orjson encodes natively, are encoded the same way
  (``str(uuid)``, ``member.value``) by the stdlib path.

Decided divergence: NaN and the infinities become ``null`` in both paths. The peer writes
``NaN``/``Infinity``, which is not JSON (RFC 8259 section 6) and which browsers'
``JSON.parse`` rejects.

Decoding uses orjson and falls back to the stdlib on any error, so the stdlib's extensions
(``NaN`` literals, lone surrogate escapes, numbers out of float range) still decode and errors are
always :class:`json.JSONDecodeError` (a ``ValueError``). Known difference: orjson decodes integers
outside the 64-bit range as ``float``; the stdlib keeps them exact.

Set ``TETHER_JSON=stdlib`` in the environment to force the stdlib codec.
"""

from __future__ import annotations

import enum
import json
import os
import uuid
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["CODEC", "Codec", "dumps", "dumps_bytes", "loads", "raw_loads"]

_std_encoder = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=lambda o: _default(o)
)
_std_decode = json.JSONDecoder().decode


def _default(obj: Any) -> Any:
    """Encode what orjson encodes natively and the stdlib does not."""
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, uuid.UUID):
        return str(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _without_non_finite(obj: Any) -> Any:
    """A copy of ``obj`` with NaN and infinities replaced by None (only on the rare path)."""
    if isinstance(obj, float):
        return obj if obj - obj == 0.0 else None
    if isinstance(obj, dict):
        return {key: _without_non_finite(value) for key, value in obj.items()}
    if isinstance(obj, list | tuple):
        return [_without_non_finite(value) for value in obj]
    return obj


def _stdlib_dumps(obj: Any) -> str:
    """Compact JSON text by the stdlib encoder, NaN and infinities as ``null``."""
    try:
        return _std_encoder.encode(obj)
    except ValueError as exc:
        if not str(exc).startswith("Out of range float"):
            raise
        return _std_encoder.encode(_without_non_finite(obj))


def _stdlib_dumps_bytes(obj: Any) -> bytes:
    return _stdlib_dumps(obj).encode("utf-8")


def _stdlib_loads(data: str | bytes | bytearray | memoryview) -> Any:
    """Parse JSON text; bytes are UTF-8 (ValueError otherwise)."""
    if not isinstance(data, str):
        data = bytes(data).decode("utf-8")
    return _std_decode(data)


class Codec(NamedTuple):
    """One JSON implementation: the public functions plus ``raw_loads``, which has no fallback."""

    name: str
    dumps: Callable[[Any], str]
    dumps_bytes: Callable[[Any], bytes]
    loads: Callable[[Any], Any]
    raw_loads: Callable[[Any], Any]


STDLIB = Codec("json", _stdlib_dumps, _stdlib_dumps_bytes, _stdlib_loads, _stdlib_loads)

_DOT = ord(".")
_MINUS = ord("-")


def _make_orjson_codec() -> Codec:
    import orjson

    orjson_dumps = orjson.dumps
    orjson_loads = orjson.loads
    decode_error = orjson.JSONDecodeError
    # Hand these to the stdlib path instead of letting orjson encode them its own way. Passed
    # positionally below: orjson parses a keyword argument on every call.
    options = (
        orjson.OPT_PASSTHROUGH_DATACLASS
        | orjson.OPT_PASSTHROUGH_DATETIME
        | orjson.OPT_PASSTHROUGH_SUBCLASS
    )

    # Small floats are the one case where orjson's number text differs from Python's: it
    # writes "0.0000..." or "...e-5" where Python writes "...e-05". The scans are inlined
    # (no helper frame) and each substring search runs only when its one-character
    # prefilter ("-" or ".", a memchr) found something. On bytes, `int in bytes` is the
    # memchr and `find` the substring search: `bytes in bytes` first tries the needle as
    # an integer and pays for a raised and cleared TypeError on every call.

    def dumps_bytes(obj: Any) -> bytes:
        try:
            out = orjson_dumps(obj, None, options)
        except TypeError:
            return _stdlib_dumps_bytes(obj)
        if (_MINUS in out and out.find(b"e-") >= 0) or (_DOT in out and out.find(b"0.0000") >= 0):
            return _stdlib_dumps_bytes(obj)
        return out

    def dumps(obj: Any) -> str:
        try:
            out = orjson_dumps(obj, None, options)
        except TypeError:
            return _stdlib_dumps(obj)
        text = out.decode()  # the only decode: the text frame needs a str
        if ("-" in text and "e-" in text) or ("." in text and "0.0000" in text):
            return _stdlib_dumps(obj)
        return text

    def loads(data: Any) -> Any:
        try:
            return orjson_loads(data)
        except decode_error:
            return _stdlib_loads(data)

    return Codec("orjson", dumps, dumps_bytes, loads, orjson_loads)


def _select() -> Codec:
    if os.environ.get("TETHER_JSON", "").lower() != "stdlib":
        try:
            return _make_orjson_codec()
        except ImportError:
            pass
    return STDLIB


_codec = _select()

CODEC: str = _codec.name
"""``"orjson"`` or ``"json"``: the codec this process uses."""

# Bound directly (no wrapper frame): these sit on the send_json/receive_json hot path.
dumps: Callable[[Any], str] = _codec.dumps
"""Encode ``obj`` as compact JSON text, non-ASCII kept.

Raises:
    TypeError: ``obj`` holds something JSON cannot represent.
    ValueError: ``obj`` holds a circular reference.
"""

dumps_bytes: Callable[[Any], bytes] = _codec.dumps_bytes
"""Encode ``obj`` as compact UTF-8 JSON (errors as :data:`dumps`)."""

loads: Callable[[str | bytes | bytearray | memoryview], Any] = _codec.loads
"""Decode JSON text (``str``, or UTF-8 ``bytes``).

Raises:
    json.JSONDecodeError: the text is not JSON (a ``ValueError``).
    UnicodeDecodeError: bytes that are not UTF-8 (a ``ValueError``).
"""

raw_loads: Callable[[Any], Any] = _codec.raw_loads
"""The codec's own decoder, without the stdlib fallback: call :data:`loads` when it raises
``ValueError`` (saves a Python frame on the hot path)."""
