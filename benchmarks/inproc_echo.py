"""Measure (a): in-process echo cost, ns per round trip, text and JSON.

The app is called directly with a scripted list of ASGI messages (connect, N receives,
disconnect) and a ``send`` that only counts: no server, no network, so what is timed is the
framework's own work for ``receive_text`` + ``send_text`` (or ``receive_json`` + ``send_json``).
The ``text, suspending receive`` variant makes ``receive`` yield to the event loop once per
message, as a server's does: that adds the cost of suspending and resuming the app's whole
chain of coroutines, which grows with the framework's call depth.
Implementations alternate within each repetition, in a rotating order.

Run alone: ``benchmarks/.venv/bin/python benchmarks/inproc_echo.py [--smoke]``.
"""

from __future__ import annotations

import apps
from _common import (
    ECHO_JSON,
    ECHO_TEXT,
    ASGIApp,
    CountingTransport,
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

# variant -> (path, payload, whether receive suspends like a real server's)
VARIANTS = {
    "text": ("/ws", ECHO_TEXT, False),
    "json": ("/json", ECHO_JSON, False),
    "text, suspending receive": ("/ws", ECHO_TEXT, True),
}


async def one_sample(app: ASGIApp, path: str, payload: str, n: int, suspend: bool = False) -> float:
    """Run one connection of ``n`` echoes through ``app``; return ns per round trip."""
    kind = SuspendingTransport if suspend else CountingTransport
    transport = kind(echo_script(n, payload))
    clean_slate()
    start = cpu_ns()
    await app(websocket_scope(path), transport.receive, transport.send)
    elapsed = cpu_ns() - start
    if transport.sent < n:
        raise RuntimeError(f"{path}: the app sent {transport.sent} messages for {n} echoes")
    return elapsed / n


async def measure(n: int, reps: int) -> list[Row]:
    """Alternate every available implementation ``reps`` times for each variant."""
    rows: list[Row] = []
    for variant, (path, payload, suspend) in VARIANTS.items():
        live: list[tuple[Row, ASGIApp]] = []
        for name in apps.FRAMEWORKS:
            app, reason = apps.try_build(name)
            if app is None:
                rows.append(unavailable(name, variant, reason))
                continue
            row = Row(name=name, variant=variant)
            if name == "raw" and variant == "json":
                row.note = "raw ASGI JSON echo decodes and encodes with orjson"
            try:
                await one_sample(
                    app, path, payload, min(n, 1000), suspend
                )  # warm up, and check it works
            except Exception as exc:
                if name != "tether":
                    raise
                rows.append(unavailable(name, variant, exc))
                continue
            live.append((row, app))
            rows.append(row)
        await sample_in_turn(
            live, reps, lambda app, p=path, b=payload, s=suspend: one_sample(app, p, b, n, s)
        )
    return rows


def main() -> None:
    """Parse options, measure, print JSON."""
    run_in_process(
        "inproc_echo",
        "In-process echo, ns per round trip",
        "ns",
        __doc__,
        measure,
        sizes=(2_000, 100_000),
        per_sample="round_trips_per_sample",
        meta={"text": ECHO_TEXT, "json": ECHO_JSON},
    )


if __name__ == "__main__":
    main()
