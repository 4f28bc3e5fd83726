"""A bearer token carried in ``Sec-WebSocket-Protocol``: the one header a browser can set.

Browsers cannot set headers on a WebSocket handshake (WHATWG HTML issue 3062); they can offer
subprotocols, ``new WebSocket(url, ["chat.v1", "bearer." + token])``. This scheme is tether's
own (the peer has none).
"""

from __future__ import annotations

from collections.abc import Sequence

from tether.exceptions import HTTPException
from tether.requests import HTTPConnection
from tether.security.base import SecurityBase, scheme_model

__all__ = ["SubprotocolToken", "WebSocketSubprotocolToken"]


class SubprotocolToken:
    """A token found in ``Sec-WebSocket-Protocol`` and the subprotocol to accept with.

    Pass ``subprotocol`` to ``websocket.accept(subprotocol=...)``: a browser fails the
    connection when it offered subprotocols and the server selects none.
    """

    __slots__ = ("subprotocol", "token")

    def __init__(self, token: str, subprotocol: str) -> None:
        self.token = token
        self.subprotocol = subprotocol

    def __repr__(self) -> str:
        return f"SubprotocolToken(token='***', subprotocol={self.subprotocol!r})"


class WebSocketSubprotocolToken(SecurityBase):
    """A bearer token offered as a WebSocket subprotocol.

    The scheme finds the offered entry starting with ``prefix`` and returns a
    :class:`SubprotocolToken`. Its ``subprotocol`` is the first offered entry that is in
    ``protocols`` (the application's real protocols); when ``protocols`` is not given it is
    the token entry itself, so the server echoes what the client sent. Accept with it::

        @app.websocket("/ws")
        async def ws(websocket: WebSocket, auth: SubprotocolToken = Depends(scheme)):
            await websocket.accept(subprotocol=auth.subprotocol)

    A subprotocol must be an HTTP token (RFC 6455 section 4.1, RFC 9110 section 5.6.2), so
    tokens with characters such as ``/`` or ``=`` must be encoded first (base64url, without
    padding). Raises ``HTTPException(401)`` when no entry carries a token, and
    ``HTTPException(400)`` when ``protocols`` is given and the client offered none of them.
    """

    def __init__(
        self,
        *,
        prefix: str = "bearer.",
        protocols: Sequence[str] | None = None,
        scheme_name: str | None = None,
        description: str | None = None,
        auto_error: bool = True,
    ) -> None:
        model = scheme_model(
            "apiKey", description, name="Sec-WebSocket-Protocol", **{"in": "header"}
        )
        self._setup(model, scheme_name, auto_error)
        self.prefix = prefix
        self.protocols = tuple(protocols) if protocols is not None else None

    async def __call__(self, request: HTTPConnection) -> SubprotocolToken | None:
        offered = _offered_subprotocols(request)
        entry = next((item for item in offered if item.startswith(self.prefix)), None)
        if entry is None or len(entry) == len(self.prefix):
            self._missing()
            return None
        if self.protocols is None:
            return SubprotocolToken(entry[len(self.prefix) :], entry)
        chosen = next((item for item in offered if item in self.protocols), None)
        if chosen is None:
            if not self.auto_error:
                return None
            raise HTTPException(400, f"offer one of the subprotocols {list(self.protocols)}")
        return SubprotocolToken(entry[len(self.prefix) :], chosen)


def _offered_subprotocols(connection: HTTPConnection) -> list[str]:
    """The subprotocols the client offered (ASGI ``scope["subprotocols"]``, else the header)."""
    offered = connection.scope.get("subprotocols")
    if offered is not None:
        return list(offered)
    header = connection.headers.get("sec-websocket-protocol", "")
    return [item.strip() for item in header.split(",") if item.strip()]
