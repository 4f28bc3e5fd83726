"""The door of the browser protocol: strict decoding of client frames, clean outbound text.

A client frame is refused here, before anything is published, stored or echoed, when it is not
text that can be sent back: a lone UTF-16 surrogate (``"\\ud800"`` is valid JSON syntax but no
UTF-8 encoder accepts the string it decodes to), ``NaN``/``Infinity`` (not JSON), or nesting
deeper than the decoder allows. Such a frame is answered with an ``error`` frame and the
connection goes on; text that is not JSON at all is a protocol error (close 4003).

:func:`clean_text` is the last line of defence on the way out: a frame that still holds a lone
surrogate (stored by an older version, written into the broker by something else) is sent with
U+FFFD in its place instead of failing the socket write.

:class:`LogLimiter` keeps a cause that clients can trigger at will from flooding the log.
"""

from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from tether._json import CODEC, raw_loads

__all__ = ["FrameRefused", "LogLimiter", "clean_text", "decode_frame"]

_strict_std = json.JSONDecoder(parse_constant=lambda name: _not_json(name)).decode
_lenient_std = json.JSONDecoder().decode
_check_encoder = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
# A \u escape of a UTF-16 surrogate (D800-DFFF): only then can decoded text hold a lone one.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


class FrameRefused(Exception):
    """A client frame that cannot be served: ``fatal`` ones close the connection (4003)."""

    def __init__(self, message: str, *, fatal: bool, request_id: Any = None) -> None:
        super().__init__(message)
        self.fatal = fatal
        self.request_id = request_id


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _encodable(value: Any) -> bool:
    """True when ``value`` encodes to JSON text that is valid UTF-8 (no lone surrogate)."""
    try:
        _check_encoder(value).encode("utf-8")
    except (UnicodeEncodeError, ValueError, TypeError, RecursionError):
        return False
    return True


def decode_frame(text: str | bytes) -> Any:
    """Decode one client frame strictly; raises :class:`FrameRefused` for what is refused."""
    try:
        if CODEC == "orjson":
            return raw_loads(text)  # orjson refuses lone surrogates, NaN and depth > 1024
        frame = _strict_std(text if isinstance(text, str) else text.decode("utf-8"))
    except RecursionError:
        raise FrameRefused("frame nested too deeply", fatal=False) from None
    except ValueError:
        _classify(text)
        raise  # not reached: _classify always raises
    shown = text if isinstance(text, str) else text.decode("latin-1")
    if _SURROGATE_ESCAPE.search(shown) and not _encodable(frame):
        raise FrameRefused(_INVALID_TEXT, fatal=False, request_id=_clean_id(frame))
    return frame


_INVALID_TEXT = "frame holds text that cannot be sent back (a lone surrogate) or NaN/Infinity"


def _classify(text: str | bytes) -> None:
    """Why strict decoding failed: parse leniently to tell refused text from garbage."""
    try:
        frame = _lenient_std(text if isinstance(text, str) else text.decode("utf-8"))
    except RecursionError:
        raise FrameRefused("frame nested too deeply", fatal=False) from None
    except ValueError:
        raise FrameRefused("frames must be JSON objects", fatal=True) from None
    raise FrameRefused(_INVALID_TEXT, fatal=False, request_id=_clean_id(frame))


def _clean_id(frame: Any) -> Any:
    """The frame's ``id`` when it can be echoed, else None."""
    if not isinstance(frame, dict):
        return None
    request_id = frame.get("id")
    return request_id if _encodable(request_id) else None


def clean_text(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD (so it encodes as UTF-8)."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


class LogLimiter:
    """Log a cause at most once per ``interval`` seconds, then how often it recurred.

    Clients can trigger refusals and failures at will; one line per cause and window keeps the
    log readable and its volume bounded.
    """

    __slots__ = ("_interval", "_logger", "_seen")

    def __init__(self, logger: logging.Logger, interval: float = 60.0) -> None:
        self._logger = logger
        self._interval = interval
        self._seen: dict[str, tuple[float, int]] = {}

    def log(self, level: int, cause: str, message: str, exc: BaseException | None = None) -> None:
        """Log ``message`` for ``cause`` unless it was logged less than ``interval`` ago."""
        now = time.monotonic()
        last, skipped = self._seen.get(cause, (-self._interval - 1.0, 0))
        if now - last < self._interval:
            self._seen[cause] = (last, skipped + 1)
            return
        if len(self._seen) > 1000:
            self._seen.clear()
        self._seen[cause] = (now, 0)
        suffix = f" ({skipped} more since the last report)" if skipped else ""
        self._logger.log(level, "%s%s", message, suffix, exc_info=exc)
