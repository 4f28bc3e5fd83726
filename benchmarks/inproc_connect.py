"""Measure (b): in-process cost of a whole connection, µs per connection.

One connection = routing + (dependency solving) + accept + one text echo + client close, driven
through the app with scripted ASGI messages and a ``send`` that drops what it gets. Two
variants: ``plain`` (``/ws``) and ``params+DI`` (``/di/{room}?q=...`` with one dependency;
Starlette has no DI, so its row reads the same values by hand). Implementations alternate
within each repetition.

Run alone: ``benchmarks/.venv/bin/python benchmarks/inproc_connect.py [--smoke]``.
"""

from __future__ import annotations

from typing import Any

import apps
from _common import (
    CONNECT,
    DISCONNECT,
    ASGIApp,
    Row,
    clean_slate,
    cpu_ns,
    run_in_process,
    sample_in_turn,
    unavailable,
    websocket_scope,
)

VARIANTS = {"plain": "/ws", "params+DI": "/di/lobby?q=hello"}
HELLO = {"type": "websocket.receive", "text": "hi"}


async def _noop_send(message: Any) -> None:
    return None


async def one_connection(app: ASGIApp, path: str) -> None:
    """Drive one connection's life through ``app``."""
    script = iter((CONNECT, HELLO, DISCONNECT))

    async def receive() -> Any:
        return next(script, DISCONNECT)

    await app(websocket_scope(path), receive, _noop_send)


async def check(app: ASGIApp, path: str) -> None:
    """Raise unless ``app`` accepts ``path`` and echoes one frame."""
    sent: list[str] = []
    script = iter((CONNECT, HELLO, DISCONNECT))

    async def receive() -> Any:
        return next(script, DISCONNECT)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    await app(websocket_scope(path), receive, send)
    if sent[:2] != ["websocket.accept", "websocket.send"]:
        raise RuntimeError(f"{path}: expected accept + one echo, the app sent {sent}")


async def one_sample(app: ASGIApp, path: str, n: int) -> float:
    """``n`` connections through ``app``; return µs per connection."""
    clean_slate()
    start = cpu_ns() / 1e9
    for _ in range(n):
        await one_connection(app, path)
    return (cpu_ns() / 1e9 - start) / n * 1e6


async def prepare(variant: str, path: str, rows: list[Row]) -> list[tuple[Row, ASGIApp]]:
    """Build and check every implementation for ``variant``; record the unavailable ones."""
    live: list[tuple[Row, ASGIApp]] = []
    for name in apps.FRAMEWORKS:
        if name == "raw" and variant != "plain":
            continue  # raw ASGI has no routing, parameters or dependencies to measure
        app, reason = apps.try_build(name)
        if app is None:
            rows.append(unavailable(name, variant, reason))
            continue
        try:
            await check(app, path)
        except Exception as exc:
            if name != "tether":
                raise
            rows.append(unavailable(name, variant, exc))
            continue
        note = (
            "parameters read by hand (no DI)" if name == "starlette" and variant != "plain" else ""
        )
        row = Row(name=name, variant=variant, note=note)
        rows.append(row)
        live.append((row, app))
    return live


async def measure(n: int, reps: int) -> list[Row]:
    """Alternate every available implementation ``reps`` times for each variant."""
    rows: list[Row] = []
    for variant, path in VARIANTS.items():
        live = await prepare(variant, path, rows)
        for _row, app in live:
            await one_sample(app, path, max(n // 10, 10))  # warm up
        await sample_in_turn(live, reps, lambda app, p=path: one_sample(app, p, n))
    return rows


def main() -> None:
    """Parse options, measure, print JSON."""
    run_in_process(
        "inproc_connect",
        "In-process connection lifetime (routing + accept + one echo + close), µs",
        "µs",
        __doc__,
        measure,
        sizes=(300, 10_000),
        per_sample="connections_per_sample",
        meta={"paths": VARIANTS},
    )


if __name__ == "__main__":
    main()
