"""Measure (j): an HTTP JSON endpoint with a response model, CPU µs per request, in process.

The same endpoint in each framework: ``GET /items/{item_id}?q=...`` with an ``int`` path
parameter and an optional ``str`` query parameter, returning a stored record of five fields
that the declared response model (a pydantic model of four fields) must filter, validate and
encode as JSON:

- tether and fastapi: ``async def read_item(item_id: int, q: str | None = None) -> Item``
  returning the stored ``dict`` (the framework filters and validates it);
- litestar: the same signature; Litestar encodes the return value without validating it, so the
  endpoint builds the model itself (``Item.model_validate(record)``): the same work is done.

Each request is one call of the ASGI app with a fresh scope, a ``receive`` that returns the
empty body and a ``send`` that counts the body bytes; the response is checked once per
implementation (status 200, the filtered JSON). Implementations alternate within each
repetition; the loop is uvloop. What is timed is the process CPU per request.

Run alone: ``benchmarks/.venv/bin/python benchmarks/http_json.py [--smoke]``.
"""

from __future__ import annotations

import json
from typing import Any

import uvloop
from _common import Row, base_parser, clean_slate, cpu_ns, emit, rotated
from pydantic import BaseModel

IMPLEMENTATIONS = ("tether", "fastapi", "litestar")
RECORD = {"id": 7, "name": "Hammer", "price": 9.5, "tags": ["tools", "home"], "secret": "x"}
EXPECTED = {"id": 7, "name": "Hammer", "price": 9.5, "tags": ["tools", "home"]}


class Item(BaseModel):
    id: int
    name: str
    price: float
    tags: list[str] = []


def tether_app() -> Any:
    from tether import Tether

    app = Tether(openapi_url=None, graceful_shutdown=False)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None) -> Item:
        return RECORD  # type: ignore[return-value]

    return app


def fastapi_app() -> Any:
    from fastapi import FastAPI

    app = FastAPI(openapi_url=None)

    @app.get("/items/{item_id}")
    async def read_item(item_id: int, q: str | None = None) -> Item:
        return RECORD  # type: ignore[return-value]

    return app


def litestar_app() -> Any:
    from litestar import Litestar, get

    @get("/items/{item_id:int}")
    async def read_item(item_id: int, q: str | None = None) -> Item:
        return Item.model_validate(RECORD)

    return Litestar([read_item], openapi_config=None)


BUILDERS = {"tether": tether_app, "fastapi": fastapi_app, "litestar": litestar_app}


def http_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": "/items/7",
        "raw_path": b"/items/7",
        "query_string": b"q=abc",
        "headers": [(b"host", b"localhost"), (b"accept", b"application/json")],
        "state": {},
    }


class Exchange:
    """The server side of one request: an empty body in, status and body bytes out."""

    __slots__ = ("body", "status")

    def __init__(self) -> None:
        self.status = 0
        self.body = b""

    async def receive(self) -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")


async def check(app: Any) -> None:
    exchange = Exchange()
    await app(http_scope(), exchange.receive, exchange.send)
    if exchange.status != 200 or json.loads(exchange.body) != EXPECTED:
        raise RuntimeError(f"unexpected response {exchange.status} {exchange.body!r}")


async def run_requests(app: Any, count: int) -> float:
    """µs of CPU per request over ``count`` requests."""
    clean_slate()
    start = cpu_ns()
    for _ in range(count):
        exchange = Exchange()
        await app(http_scope(), exchange.receive, exchange.send)
    return (cpu_ns() - start) / count / 1000


async def measure(count: int, reps: int) -> list[Row]:
    rows: list[Row] = []
    live: list[tuple[Any, Row]] = []
    for name in IMPLEMENTATIONS:
        try:
            app = BUILDERS[name]()
            await check(app)
            await run_requests(app, max(count // 10, 10))  # warm up
        except Exception as exc:
            rows.append(Row(name, "response model", False, note=f"not available ({exc!r})"))
            continue
        row = Row(name, "response model")
        rows.append(row)
        live.append((app, row))
    for rep in range(reps):
        for app, row in rotated(live, rep):
            row.samples.append(await run_requests(app, count))
    return rows


def main() -> None:
    """Parse options, measure, print JSON."""
    args = base_parser(__doc__ or "").parse_args()
    count = 200 if args.smoke else 5000
    reps = args.reps or (1 if args.smoke else 7)
    rows = uvloop.run(measure(count, reps))
    emit(
        "http_json",
        "HTTP JSON endpoint with a response model: CPU µs per request, in process",
        "µs",
        rows,
        {"requests": count, "reps": reps, "path": "/items/{item_id}?q=", "model_fields": 4,
         "record_fields": 5, "transport": "in-process ASGI", "loop": "uvloop"},
    )  # fmt: skip


if __name__ == "__main__":
    main()
