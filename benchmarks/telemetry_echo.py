"""Measure the cost of OpenTelemetry on the in-process echo, ns per round trip.

The tether echo app of ``inproc_echo.py`` built five ways, run through the same scripted
connection (connect, N text echoes, disconnect; ``receive`` suspends once per message, as a
server's does):

- ``off``: ``Tether(telemetry=False)``, the reference;
- ``default, no provider``: ``Tether()`` with ``opentelemetry-api`` installed but no provider
  configured (a fresh process): one provider check per connection;
- ``traced, default sampling``: an SDK tracer provider (spans processed and dropped by a no-op
  exporter), one message span in 1000 per direction;
- ``traced, every message``: the same with ``message_span_every=1``;
- ``fastapi``: FastAPI's own telemetry with the same SDK provider, when the installed FastAPI
  has it (``unavailable`` otherwise).

Alternating, in a rotating order. Needs ``opentelemetry-sdk`` (``pip install -e '.[dev]'``).
Run alone: ``.venv/bin/python benchmarks/telemetry_echo.py [--smoke]``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apps
from _common import (
    ECHO_TEXT,
    ASGIApp,
    Row,
    SuspendingTransport,
    clean_slate,
    cpu_ns,
    echo_script,
    run_in_process,
    sample_in_turn,
    unavailable,
    websocket_scope,
)

from tether import WebSocket as TetherWebSocket
from tether import WebSocketDisconnect as TetherDisconnect


def _provider(ratio: float = 1.0) -> Any:
    """An SDK tracer provider whose exporter drops every span (sampling ``ratio`` of traces)."""
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
    from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

    class Drop(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider(sampler=TraceIdRatioBased(ratio))
    provider.add_span_processor(SimpleSpanProcessor(Drop()))
    return provider


def build_tether(telemetry: Any) -> ASGIApp:
    """The echo endpoint of ``apps.build_tether`` with a telemetry setting."""
    from tether import Tether

    # Limits as apps.build_tether sets them (on by default, rate raised: the echo floods).
    app = Tether(telemetry=telemetry, **apps._tether_limits())

    @app.websocket("/ws")
    async def echo(ws: TetherWebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text(await ws.receive_text())
        except TetherDisconnect:
            pass

    return app  # type: ignore[return-value]


def build_fastapi(provider: Any) -> ASGIApp:
    """The same echo on FastAPI with its native telemetry (raises when it has none)."""
    import fastapi

    app = fastapi.FastAPI(telemetry={"tracer_provider": provider})  # type: ignore[call-arg]

    async def echo(ws: fastapi.WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.send_text(await ws.receive_text())
        except fastapi.WebSocketDisconnect:
            pass

    echo.__annotations__["ws"] = fastapi.WebSocket  # resolvable without a module-level import
    app.add_api_websocket_route("/ws", echo)

    return app  # type: ignore[return-value]


def variants() -> list[tuple[str, Any]]:
    """(row name, builder) for every configuration measured."""
    provider = _provider()
    return [
        ("tether off", lambda: build_tether(False)),
        ("tether default, no provider", lambda: build_tether(None)),
        ("tether traced, default sampling", lambda: build_tether({"tracer_provider": provider})),
        (
            "tether traced, every message",
            lambda: build_tether({"tracer_provider": provider, "message_span_every": 1}),
        ),
        ("fastapi traced", lambda: build_fastapi(provider)),
    ]


async def one_sample(app: ASGIApp, n: int) -> float:
    """One connection of ``n`` echoes; ns per round trip."""
    transport = SuspendingTransport(echo_script(n, ECHO_TEXT))
    clean_slate()
    start = cpu_ns()
    await app(websocket_scope("/ws"), transport.receive, transport.send)
    elapsed = cpu_ns() - start
    if transport.sent < n:
        raise RuntimeError(f"the app sent {transport.sent} messages for {n} echoes")
    return elapsed / n


async def measure(n: int, reps: int) -> list[Row]:
    """Alternate the configurations ``reps`` times."""
    rows: list[Row] = []
    live: list[tuple[Row, ASGIApp]] = []
    for name, build in variants():
        try:
            app = build()
            await one_sample(app, min(n, 1000))
        except Exception as exc:
            rows.append(unavailable(name, "text, suspending receive", exc))
            continue
        row = Row(name=name, variant="text, suspending receive")
        rows.append(row)
        live.append((row, app))
    await sample_in_turn(live, reps, lambda app: one_sample(app, n))
    return rows


def main() -> None:
    """Parse options, measure, print JSON."""
    run_in_process(
        "telemetry_echo",
        "In-process echo with telemetry, ns per round trip",
        "ns",
        __doc__,
        measure,
        sizes=(2_000, 20_000),
        per_sample="round_trips_per_sample",
        meta={"text": ECHO_TEXT},
    )


if __name__ == "__main__":
    main()
