"""Log helpers that keep secrets out of logs.

WebSocket clients often carry credentials where HTTP clients would not: browsers cannot set an
``Authorization`` header on a WebSocket, so tokens end up in the query string
(``?token=...``) or in ``Sec-WebSocket-Protocol``. Servers then log them: uvicorn's access log
prints the path *with* the query string for every handshake.

- :func:`mask_query`, :func:`mask_url`, :func:`mask_text` replace secret values with ``***``;
- :func:`mask_headers` masks ``Authorization`` (keeping the scheme), cookies, API-key headers and
  every ``Sec-WebSocket-Protocol`` value;
- :func:`describe_scope` turns a scope into a masked dict for structured logging;
- :class:`SecretMaskingFilter` masks log records; :func:`install_log_masking` adds it to
  uvicorn's and tether's loggers.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote_plus

__all__ = [
    "MASK",
    "SECRET_PARAMS",
    "SecretMaskingFilter",
    "describe_scope",
    "install_log_masking",
    "mask_headers",
    "mask_query",
    "mask_text",
    "mask_url",
    "printable",
]

MASK = "***"

SECRET_PARAMS = frozenset(
    {
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "apikey",
        "key",
        "password",
        "passwd",
        "pwd",
        "secret",
        "client_secret",
        "auth",
        "authorization",
        "session",
        "sessionid",
        "jwt",
        "signature",
        "sig",
        # OpenTelemetry's HTTP semantic conventions name these (signed cloud storage URLs).
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
    }
)
"""Query parameter names (compared case-insensitively, URL-decoded) whose values are masked."""

_SECRET_HEADERS = frozenset(
    {
        "cookie",
        "set-cookie",
        "x-api-key",
        "x-auth-token",
        "x-access-token",
        "x-csrf-token",
        "sec-websocket-key",
        "sec-websocket-protocol",
    }
)
_SCHEME_HEADERS = frozenset({"authorization", "proxy-authorization"})

# name=value inside free text (a URL, a log line): the value runs to the next separator.
# name=value inside free text (a URL, a log line): the value runs to the next separator. Any
# name is matched and checked decoded, so a percent-encoded one (``tok%65n=``) is caught too.
_TEXT_PAIR = re.compile(
    r"(?P<name>(?<![A-Za-z0-9_%+\-])[A-Za-z0-9_%+\-]+)(?P<sep>=|%3D)(?P<value>[^&\s\"';,#]*)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(?P<scheme>\b(?:Bearer|Basic|Token|Digest)\s+)[^\s\"',;]+", re.IGNORECASE)
# A token carried as a subprotocol (``Sec-WebSocket-Protocol: bearer.<token>``).
_SUBPROTOCOL_TOKEN = re.compile(
    r"(?P<scheme>\b(?:bearer|token|access_token|jwt|auth)\.)[^\s\"',;]+", re.IGNORECASE
)


def _is_secret_name(raw_name: str) -> bool:
    return unquote_plus(raw_name).strip().lower() in SECRET_PARAMS


def mask_query(query: str | bytes) -> str:
    """Mask the values of secret parameters in a query string (``a=1&token=x`` -> ``token=***``).

    Order, names and non-secret values are kept byte for byte; undecodable bytes are replaced.
    """
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    if not query:
        return query
    parts = []
    for part in re.split(r"([&;])", query):
        name, sep, value = part.partition("=")
        if sep and value and _is_secret_name(name):
            parts.append(f"{name}={MASK}")
        else:
            parts.append(part)
    return "".join(parts)


def mask_url(url: str) -> str:
    """Mask userinfo passwords and secret query values of a URL."""
    url = re.sub(
        r"(?P<pre>[a-zA-Z][a-zA-Z0-9+.-]*://[^/@\s:]*):[^/@\s]*@", rf"\g<pre>:{MASK}@", url
    )
    path, sep, rest = url.partition("?")
    if not sep:
        return url
    query, hash_sep, fragment = rest.partition("#")
    return f"{path}?{mask_query(query)}{hash_sep}{fragment}"


def mask_text(text: str) -> str:
    """Mask ``secret=value`` pairs (names compared decoded), ``Bearer <token>`` credentials and
    ``bearer.<token>`` subprotocol tokens anywhere in ``text``."""
    text = _TEXT_PAIR.sub(_mask_pair, text)
    text = _BEARER.sub(lambda m: f"{m['scheme']}{MASK}", text)
    return _SUBPROTOCOL_TOKEN.sub(lambda m: f"{m['scheme']}{MASK}", text)


def _mask_pair(match: re.Match[str]) -> str:
    if match["value"] and _is_secret_name(match["name"]):
        return f"{match['name']}{match['sep']}{MASK}"
    return match[0]


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match[0])
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, limit: int = 200) -> str:
    """``text`` fit for one log line: control characters (CR, LF...) escaped as ``\\xNN``,
    secrets masked, cut to ``limit`` characters.

    A client chooses the path it asks for; a decoded ``%0a`` in it must not start a forged line.
    """
    escaped = _UNPRINTABLE.sub(_escape, text)
    if len(escaped) > limit:
        escaped = escaped[: limit - 3] + "..."
    return mask_text(escaped)


def _mask_header(name: str, value: str) -> str:
    if name in _SCHEME_HEADERS:
        scheme, space, _ = value.strip().partition(" ")
        return f"{scheme} {MASK}" if space else MASK
    if name in ("cookie", "set-cookie"):
        return "; ".join(
            f"{item.partition('=')[0].strip()}={MASK}" if "=" in item else item.strip()
            for item in value.split(";")
            if item.strip()
        )
    if name == "sec-websocket-protocol":
        return ", ".join(MASK for item in value.split(",") if item.strip())
    if name in _SECRET_HEADERS:
        return MASK
    return mask_text(value)


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def mask_headers(
    headers: Iterable[tuple[str | bytes, str | bytes]] | Mapping[str, str],
) -> list[tuple[str, str]]:
    """Return ``(name, value)`` pairs (names lowercased) with credentials masked.

    ``Authorization: Bearer abc`` becomes ``Bearer ***``; cookie values become ``***`` (names
    kept); each ``Sec-WebSocket-Protocol`` entry becomes ``***`` since apps put tokens there.
    """
    items = headers.items() if isinstance(headers, Mapping) else headers
    masked = []
    for raw_name, raw_value in items:
        name = _text(raw_name).lower()
        masked.append((name, _mask_header(name, _text(raw_value))))
    return masked


def describe_scope(scope: Mapping[str, Any]) -> dict[str, Any]:
    """A masked, JSON-friendly summary of an ASGI scope for structured logs."""
    client = scope.get("client")
    return {
        "type": scope.get("type"),
        "scheme": scope.get("scheme"),
        "path": scope.get("path"),
        "query": mask_query(scope.get("query_string", b"")),
        "client": f"{client[0]}:{client[1]}" if client else None,
        "headers": dict(mask_headers(scope.get("headers", []))),
    }


def _mask_arg(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, Mapping | list | tuple | bytes):
        # A scope or headers dumped at debug/trace level (uvicorn.asgi logs the whole scope):
        # such values only print through %s/%r, so their masked text prints the same.
        return mask_text(repr(value))
    return value


class SecretMaskingFilter(logging.Filter):
    """Logging filter masking secrets in a record's message and string arguments.

    The arguments keep their shape (uvicorn's access formatter unpacks a 5-tuple), only string
    items are masked. Never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask ``record.msg`` and ``record.args`` in place; always returns True."""
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_mask_arg(arg) for arg in args)
        elif isinstance(args, Mapping):
            record.args = {key: _mask_arg(arg) for key, arg in args.items()}
        return True


def install_log_masking(
    loggers: Iterable[str] = (
        "uvicorn.access",
        "uvicorn.error",
        "uvicorn.asgi",
        "uvicorn",
        "tether",
    ),
) -> SecretMaskingFilter:
    """Add one :class:`SecretMaskingFilter` to each named logger (once); return the filter.

    Filters on a logger do not apply to records of its children, so name each logger that emits.
    """
    masking = SecretMaskingFilter()
    for name in loggers:
        target = logging.getLogger(name)
        if not any(isinstance(existing, SecretMaskingFilter) for existing in target.filters):
            target.addFilter(masking)
    return masking
