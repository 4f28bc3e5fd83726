"""Measure (h): typed message receive + send against untyped JSON, ns per round trip, in process.

Each endpoint is a bare ASGI callable that wraps the scope in the framework's ``WebSocket``
class, accepts, and echoes until the client leaves, so only the WebSocket layer and the codec
are timed (no routing). Rows:

- ``tether json``: ``receive_json`` + ``send_json``;
- ``tether pydantic`` / ``tether msgspec``: ``receive_model(Model)`` + ``send_model(message)``;
- ``starlette json``: ``receive_json`` + ``send_json``;
- ``starlette pydantic (by hand)``: ``Model.model_validate_json(await receive_text())`` +
  ``send_text(message.model_dump_json())``, what FastAPI users write today.

Run alone: ``benchmarks/.venv/bin/python benchmarks/typed_messages.py [--smoke]``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
import pydantic
from _common import (
    ASGIApp,
    CountingTransport,
    Row,
    clean_slate,
    cpu_ns,
    echo_script,
    run_in_process,
    sample_in_turn,
)

PAYLOAD = '{"type": "chat", "room": "lobby", "text": "hello world", "n": 42}'


class ChatModel(pydantic.BaseModel):
    """The chat message as a pydantic model."""

    type: str
    room: str
    text: str
    n: int


class ChatStruct(msgspec.Struct):
    """The chat message as a msgspec struct."""

    type: str
    room: str
    text: str
    n: int


def endpoint(
    websocket_class: Any, step: Callable[[Any], Any], disconnect: type[BaseException]
) -> ASGIApp:
    """An ASGI app: accept, then run ``await step(websocket)`` until the client leaves."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        websocket = websocket_class(scope, receive, send)
        await websocket.accept()
        try:
            while True:
                await step(websocket)
        except disconnect:
            pass

    return app  # type: ignore[return-value]


TETHER_ROWS = ("tether json", "tether pydantic", "tether msgspec")


def tether_apps() -> tuple[dict[str, ASGIApp], str]:
    """tether's endpoints that exist now, and why the typed ones are missing (or "")."""
    from tether.websockets import WebSocket, WebSocketDisconnect

    async def untyped(ws: Any) -> None:
        await ws.send_json(await ws.receive_json())

    async def with_pydantic(ws: Any) -> None:
        await ws.send_model(await ws.receive_model(ChatModel))

    async def with_msgspec(ws: Any) -> None:
        await ws.send_model(await ws.receive_model(ChatStruct))

    found = {"tether json": endpoint(WebSocket, untyped, WebSocketDisconnect)}
    if not hasattr(WebSocket, "receive_model") or not hasattr(WebSocket, "send_model"):
        return found, "tether.websockets.WebSocket has no receive_model/send_model yet"
    found["tether pydantic"] = endpoint(WebSocket, with_pydantic, WebSocketDisconnect)
    found["tether msgspec"] = endpoint(WebSocket, with_msgspec, WebSocketDisconnect)
    return found, ""


async def working_tether_apps(rows: list[Row]) -> dict[str, ASGIApp]:
    """The tether endpoints that build and echo; a "not available" row for each other one."""
    try:
        found, reason = tether_apps()
    except Exception as exc:
        found, reason = {}, f"{type(exc).__name__}: {exc}"
    working: dict[str, ASGIApp] = {}
    for name in TETHER_ROWS:
        why = reason
        if name in found:
            try:
                await one_sample(found[name], 100)
                working[name] = found[name]
                continue
            except Exception as exc:
                why = f"{type(exc).__name__}: {exc}"
        rows.append(Row(name, "", False, note=f"not available ({why})"))
    return working


def starlette_apps() -> dict[str, ASGIApp]:
    """Starlette's untyped endpoint and the by-hand pydantic one."""
    from starlette.websockets import WebSocket, WebSocketDisconnect

    async def untyped(ws: Any) -> None:
        await ws.send_json(await ws.receive_json())

    async def by_hand(ws: Any) -> None:
        message = ChatModel.model_validate_json(await ws.receive_text())
        await ws.send_text(message.model_dump_json())

    return {
        "starlette json": endpoint(WebSocket, untyped, WebSocketDisconnect),
        "starlette pydantic (by hand)": endpoint(WebSocket, by_hand, WebSocketDisconnect),
    }


async def one_sample(app: ASGIApp, n: int) -> float:
    """ns per round trip over one connection of ``n`` messages."""
    transport = CountingTransport(echo_script(n, PAYLOAD))
    clean_slate()
    start = cpu_ns()
    await app({"type": "websocket", "path": "/", "headers": []}, transport.receive, transport.send)
    elapsed = cpu_ns() - start
    if transport.sent < n:
        raise RuntimeError(f"the endpoint sent {transport.sent} of {n} messages")
    return elapsed / n


async def measure(n: int, reps: int) -> list[Row]:
    """Alternate every available endpoint ``reps`` times."""
    rows: list[Row] = []
    endpoints = await working_tether_apps(rows)
    endpoints.update(starlette_apps())
    live = [(Row(name, ""), app) for name, app in endpoints.items()]
    rows += [row for row, _ in live]
    for _row, app in live:
        await one_sample(app, min(n, 1000))
    await sample_in_turn(live, reps, lambda app: one_sample(app, n))
    return rows


def main() -> None:
    """Parse options, measure, print JSON."""
    run_in_process(
        "typed_messages",
        "Typed message receive + send vs untyped JSON, in process, ns per round trip",
        "ns",
        __doc__,
        measure,
        sizes=(2_000, 50_000),
        per_sample="round_trips_per_sample",
        meta={"payload": PAYLOAD},
    )


if __name__ == "__main__":
    main()
