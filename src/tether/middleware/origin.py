"""OriginMiddleware: refuse cross-origin WebSocket handshakes (DESIGN divergence 5).

Browsers send an ``Origin`` header with every WebSocket handshake but, unlike ``fetch``, apply
no CORS check to it: any page can open a socket to your app with the user's cookies
(cross-site WebSocket hijacking). This middleware checks the ``Origin`` of WebSocket scopes
against an allow-list and answers a foreign one with a 403 denial response (close 1008 where
the server lacks the denial extension). HTTP scopes pass through untouched.

A handshake without ``Origin`` (a non-browser client) is allowed unless ``allow_missing`` is
false. More than one ``Origin`` header is always refused (no browser sends two).

The own-origin exemption (``allow_same_origin``): a page served by the app itself may open a
socket to it although its origin is not listed. "Itself" cannot be read off the ``Host``
header alone: under DNS rebinding an attacker's name (``rebind.evil.example``) resolves to the
server, and the browser then sends ``Host`` and ``Origin`` both naming the attacker's site. So
the exemption holds only when the ``Origin`` equals ``Host`` *and* that host is one the app
trusts: a host name of ``allowed_origins`` (with the scheme listed there), a host allowed by ``allowed_hosts`` (Tether passes
the ``allowed_hosts`` of a ``TrustedHostMiddleware`` in its stack), ``localhost``, or an IP
address literal (rebinding needs a name; a page whose origin is an address was served from it).
``Tether(allowed_origins=[...])`` installs this middleware; ``CORSMiddleware`` applies the same
:class:`OriginPolicy` to WebSocket handshakes.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from tether.datastructures import Headers
from tether.responses import PlainTextResponse
from tether.routing.errors import ensure_tracker, send_outcome
from tether.types import ASGIApp, Receive, Scope, Send

__all__ = ["OriginMiddleware", "OriginPolicy", "deny_origin", "normalize_origin"]


def normalize_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, without a trailing slash."""
    return origin.strip().rstrip("/").lower()


def _hostname(netloc: str) -> str | None:
    """The host name of ``host[:port]`` in lower case (IPv6 without brackets); None if bad."""
    try:
        return urlsplit("//" + netloc).hostname
    except ValueError:  # an unterminated IPv6 bracket, a bad port
        return None


def _is_address_or_localhost(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


class OriginPolicy:
    """Which WebSocket handshake origins an app accepts; see the module docstring.

    ``allowed_origins`` holds full origins (``"https://example.org"``) or ``"*"`` for any;
    ``allow_origin_regex`` is matched against the whole (lower-cased) origin;
    ``allowed_hosts`` are host names or ``*.example.org`` patterns trusted for the own-origin
    exemption (a lone ``"*"`` grants nothing: it is "no host check", not trust).
    """

    __slots__ = (
        "allowed",
        "allow_any",
        "regex",
        "trusted_names",
        "trusted_suffixes",
        "allow_same_origin",
        "allow_missing",
    )

    def __init__(
        self,
        allowed_origins: Sequence[str] = (),
        allow_origin_regex: str | None = None,
        *,
        allowed_hosts: Sequence[str] = (),
        allow_same_origin: bool = True,
        allow_missing: bool = True,
    ) -> None:
        self.allowed = frozenset(normalize_origin(origin) for origin in allowed_origins)
        self.allow_any = "*" in self.allowed
        self.regex = re.compile(allow_origin_regex) if allow_origin_regex else None
        # host name -> the schemes it is trusted with (None: any scheme, from allowed_hosts)
        names: dict[str, set[str] | None] = {}
        for origin in self.allowed - {"*"}:
            parts = urlsplit(origin)
            name = _hostname(parts.netloc)
            if name:
                schemes = names.setdefault(name, set())
                if schemes is not None:
                    schemes.add(parts.scheme)
        hosts = [host.strip().lower() for host in allowed_hosts]
        names.update((host, None) for host in hosts if host and not host.startswith("*"))
        self.trusted_names = {
            name: None if schemes is None else frozenset(schemes) for name, schemes in names.items()
        }
        self.trusted_suffixes = tuple(host[1:] for host in hosts if host.startswith("*."))
        self.allow_same_origin = allow_same_origin
        self.allow_missing = allow_missing

    def trusts_host(self, hostname: str, scheme: str) -> bool:
        """Whether a page served from ``scheme://hostname`` counts as the app's own.

        A name taken from ``allowed_origins`` is trusted with the schemes listed for it only
        (``https://app.example`` listed does not make ``http://app.example`` the app's own).
        """
        if _is_address_or_localhost(hostname):
            return True
        if hostname in self.trusted_names:
            schemes = self.trusted_names[hostname]
            return schemes is None or scheme in schemes
        return hostname.endswith(self.trusted_suffixes)

    def is_allowed(self, origin: str | None, host: str | None) -> bool:
        """Whether a handshake with this ``Origin`` (and ``Host``) header may proceed."""
        if origin is None:
            return self.allow_missing
        normalized = normalize_origin(origin)
        if self.allow_any or normalized in self.allowed:
            return True
        if self.regex is not None and self.regex.fullmatch(normalized):
            return True
        if not (self.allow_same_origin and host):
            return False
        try:
            parts = urlsplit(normalized)
        except ValueError:  # "http://[::1" and the like: not an origin a browser sends
            return False
        if parts.netloc != host.strip().lower():
            return False
        hostname = _hostname(parts.netloc)
        return hostname is not None and self.trusts_host(hostname, parts.scheme)

    def check(self, scope: Scope) -> bool:
        """Whether the handshake in ``scope`` may proceed (two ``Origin`` headers: never)."""
        headers = Headers(scope=scope)
        origins = headers.getlist("origin")
        if len(origins) > 1:
            return False
        return self.is_allowed(origins[0] if origins else None, headers.get("host"))


async def deny_origin(scope: Scope, receive: Receive, send: Send) -> None:
    """Refuse the handshake in ``scope``: 403 "Origin not allowed" (close 1008 without the
    denial extension)."""
    tracker, send = ensure_tracker(scope, send)
    response = PlainTextResponse("Origin not allowed", status_code=403)
    await send_outcome(response, scope, receive, send, tracker)


class OriginMiddleware:
    """Allow a WebSocket handshake only from the listed origins; see the module docstring.

    The arguments are those of :class:`OriginPolicy`.
    """

    def __init__(
        self,
        app: ASGIApp,
        allowed_origins: Sequence[str] = (),
        allow_origin_regex: str | None = None,
        *,
        allowed_hosts: Sequence[str] = (),
        allow_same_origin: bool = True,
        allow_missing: bool = True,
    ) -> None:
        self.app = app
        self.policy = OriginPolicy(
            allowed_origins,
            allow_origin_regex,
            allowed_hosts=allowed_hosts,
            allow_same_origin=allow_same_origin,
            allow_missing=allow_missing,
        )

    def is_allowed(self, origin: str | None, host: str | None) -> bool:
        """Whether a handshake with this ``Origin`` (and ``Host``) header may proceed."""
        return self.policy.is_allowed(origin, host)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket" or self.policy.check(scope):
            await self.app(scope, receive, send)
            return
        await deny_origin(scope, receive, send)
