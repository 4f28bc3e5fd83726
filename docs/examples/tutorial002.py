"""FastAPI's WebSocket tutorial 002 on tether: Depends, Cookie, Query and WebSocketException.

Two variants of the same app: ``app`` declares parameters with default values
(``session: str | None = Cookie(default=None)``), ``app_an`` with ``Annotated``. Both serve
``GET /`` (a page to try it) and ``WS /items/{item_id}/ws``.

Without a ``session`` cookie or a ``token`` query parameter the dependency raises
``WebSocketException(1008)`` before ``accept()``; an invalid ``q`` fails validation. On tether
both refusals happen at the handshake: the validation error is an HTTP 422 denial with the
errors as JSON (where the server supports the denial extension), the policy refusal a close
with code 1008.
"""

from __future__ import annotations

from typing import Annotated

from tether.applications import Tether
from tether.exceptions import WebSocketException
from tether.params import Cookie, Depends, Query
from tether.responses import HTMLResponse
from tether.status import WS_1008_POLICY_VIOLATION
from tether.websockets import WebSocket

html = """
<!DOCTYPE html>
<html>
    <head>
        <title>Chat</title>
    </head>
    <body>
        <h1>WebSocket Chat</h1>
        <form action="" onsubmit="sendMessage(event)">
            <label>Item ID: <input type="text" id="itemId" autocomplete="off" value="foo"/></label>
            <label>Token: <input type="text" id="token" autocomplete="off" value="some-key-token"/></label>
            <button onclick="connect(event)">Connect</button>
            <hr>
            <label>Message: <input type="text" id="messageText" autocomplete="off"/></label>
            <button>Send</button>
        </form>
        <ul id='messages'>
        </ul>
        <script>
        var ws = null;
            function connect(event) {
                var itemId = document.getElementById("itemId")
                var token = document.getElementById("token")
                ws = new WebSocket("ws://localhost:8000/items/" + itemId.value + "/ws?token=" + token.value);
                ws.onmessage = function(event) {
                    var messages = document.getElementById('messages')
                    var message = document.createElement('li')
                    var content = document.createTextNode(event.data)
                    message.appendChild(content)
                    messages.appendChild(message)
                };
                event.preventDefault()
            }
            function sendMessage(event) {
                var input = document.getElementById("messageText")
                ws.send(input.value)
                input.value = ''
                event.preventDefault()
            }
        </script>
    </body>
</html>
"""


async def get_cookie_or_token(
    websocket: WebSocket,
    session: str | None = Cookie(default=None),
    token: str | None = Query(default=None),
) -> str:
    """The session cookie, else the ``token`` query parameter; refuse with 1008 without both."""
    if session is None and token is None:
        raise WebSocketException(code=WS_1008_POLICY_VIOLATION)
    return session or token  # type: ignore[return-value]


async def serve_item(
    websocket: WebSocket, item_id: str, q: int | None, cookie_or_token: str
) -> None:
    """Accept, then answer each text message with what the handshake carried."""
    await websocket.accept()
    while True:
        data = await websocket.receive_text()
        await websocket.send_text(f"Session cookie or query token value is: {cookie_or_token}")
        if q is not None:
            await websocket.send_text(f"Query parameter q is: {q}")
        await websocket.send_text(f"Message text was: {data}, for item ID: {item_id}")


app = Tether()


@app.get("/")
async def get() -> HTMLResponse:
    return HTMLResponse(html)


@app.websocket("/items/{item_id}/ws")
async def websocket_endpoint(
    websocket: WebSocket,
    item_id: str,
    q: int | None = None,
    cookie_or_token: str = Depends(get_cookie_or_token),
) -> None:
    await serve_item(websocket, item_id, q, cookie_or_token)


# The Annotated variant (FastAPI's tutorial002_an).


async def get_cookie_or_token_an(
    websocket: WebSocket,
    session: Annotated[str | None, Cookie()] = None,
    token: Annotated[str | None, Query()] = None,
) -> str:
    """Same as :func:`get_cookie_or_token`, declared with ``Annotated``."""
    if session is None and token is None:
        raise WebSocketException(code=WS_1008_POLICY_VIOLATION)
    return session or token  # type: ignore[return-value]


app_an = Tether()


@app_an.get("/")
async def get_an() -> HTMLResponse:
    return HTMLResponse(html)


@app_an.websocket("/items/{item_id}/ws")
async def websocket_endpoint_an(
    *,
    websocket: WebSocket,
    item_id: str,
    q: int | None = None,
    cookie_or_token: Annotated[str, Depends(get_cookie_or_token_an)],
) -> None:
    await serve_item(websocket, item_id, q, cookie_or_token)
