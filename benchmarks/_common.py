"""Shared helpers for the benchmark scripts: ASGI scopes, counting transports, statistics, output.

Every benchmark script imports this module, measures tether and its peers alternating in the
same process (or the same run), and prints one JSON document on stdout::

    {"measure": "...", "title": "...", "unit": "ns", "better": "lower",
     "params": {...},
     "rows": [{"name": "tether", "variant": "text", "available": true,
               "samples": [...], "median": 123.0, "note": ""}, ...]}

A row whose implementation cannot be built (a tether API that does not exist yet) is reported
with ``"available": false`` and the reason in ``"note"``; it never makes the script fail.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]

ECHO_TEXT = "hello"
ECHO_JSON = '{"type": "chat", "room": "lobby", "text": "hello world", "n": 42}'


def websocket_scope(path: str) -> Message:
    """Build a WebSocket ASGI scope for ``path`` (which may carry ``?query``)."""
    path, _, query = path.partition("?")
    return {
        "type": "websocket",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "scheme": "ws",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"localhost:8000"), (b"origin", b"http://localhost:8000")],
        "subprotocols": [],
        "state": {},
        "extensions": {"websocket.http.response": {}},
    }


class CountingTransport:
    """An ASGI receive/send pair replaying a fixed message list; ``send`` only counts.

    After the scripted messages run out, ``receive`` reports a client disconnect, so an
    endpoint that keeps reading ends normally.
    """

    __slots__ = ("_messages", "sent")

    def __init__(self, messages: Iterable[Message]) -> None:
        self._messages: Iterator[Message] = iter(messages)
        self.sent = 0

    async def receive(self) -> Message:
        """Return the next scripted message, then disconnects forever."""
        return next(self._messages, DISCONNECT)

    async def send(self, message: Message) -> None:
        """Count the message and drop it."""
        self.sent += 1


class SuspendingTransport(CountingTransport):
    """As :class:`CountingTransport`, but ``receive`` yields to the event loop once first.

    A real server's ``receive`` suspends the app until a frame arrives; each suspension and
    resumption walks the whole chain of awaiting coroutines, so a deep call stack costs time
    here that the non-suspending transport does not show.
    """

    __slots__ = ()

    async def receive(self) -> Message:
        """Yield to the loop, then return the next scripted message."""
        await asyncio.sleep(0)
        return next(self._messages, DISCONNECT)


DISCONNECT: Message = {"type": "websocket.disconnect", "code": 1000}
CONNECT: Message = {"type": "websocket.connect"}


def echo_script(n: int, text: str) -> list[Message]:
    """Messages for a connection that sends ``n`` text frames and then goes away."""
    frame = {"type": "websocket.receive", "text": text}
    return [CONNECT, *([frame] * n), DISCONNECT]


@dataclass
class Row:
    """One implementation's samples for one variant of a measure."""

    name: str
    variant: str = ""
    available: bool = True
    samples: list[float] = field(default_factory=list)
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Serialise the row, with its median (``None`` when there are no samples)."""
        median = statistics.median(self.samples) if self.samples else None
        return {
            "name": self.name,
            "variant": self.variant,
            "available": self.available and bool(self.samples),
            "samples": [round(s, 3) for s in self.samples],
            "median": None if median is None else round(median, 3),
            "note": self.note,
            **({"extra": self.extra} if self.extra else {}),
        }


def unavailable(name: str, variant: str, error: BaseException | str) -> Row:
    """A row for an implementation that could not be built or run."""
    reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return Row(name=name, variant=variant, available=False, note=f"not available ({reason})")


def emit(
    measure: str,
    title: str,
    unit: str,
    rows: list[Row],
    params: dict[str, Any],
    better: str = "lower",
    baseline: str = "",
) -> None:
    """Print the measure's JSON document on stdout.

    ``baseline`` names the row the others are compared with in the report when the rows are
    all tether's (say, one Redis server against a cluster) rather than tether and its peers.
    """
    doc = {
        "measure": measure,
        "title": title,
        "unit": unit,
        "better": better,
        "params": params,
        "rows": [r.as_dict() for r in rows],
        **({"baseline": baseline} if baseline else {}),
    }
    json.dump(doc, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()


def base_parser(description: str) -> argparse.ArgumentParser:
    """The options every benchmark script accepts."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, to check it runs")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per implementation")
    return parser


def rotated(items: list[Any], rep: int) -> list[Any]:
    """``items`` rotated by ``rep``, so no implementation always runs first or last."""
    k = rep % len(items) if items else 0
    return items[k:] + items[:k]


async def sample_in_turn(
    live: list[tuple[Row, Any]], reps: int, take: Callable[[Any], Awaitable[float]]
) -> None:
    """``reps`` rounds; each round appends one ``take(subject)`` sample to every row, the rows
    in a rotated order (see :func:`rotated`)."""
    for rep in range(reps):
        for row, subject in rotated(live, rep):
            row.samples.append(await take(subject))


def run_in_process(
    name: str,
    title: str,
    unit: str,
    doc: str | None,
    measure: Callable[[int, int], Awaitable[list[Row]]],
    *,
    sizes: tuple[int, int],
    per_sample: str,
    meta: dict[str, Any],
) -> None:
    """The ``main()`` of an in-process benchmark: parse the options, ``measure(n, reps)`` on
    asyncio with ``n`` from ``sizes`` (smoke, full), and emit the rows."""
    args = base_parser(doc or "").parse_args()
    n = sizes[0] if args.smoke else sizes[1]
    reps = args.reps or (2 if args.smoke else 7)
    rows = asyncio.run(measure(n, reps))
    emit(name, title, unit, rows, {per_sample: n, "reps": reps, **meta})


def clean_slate() -> None:
    """Collect garbage before a sample, so one sample does not pay for another's garbage."""
    gc.collect()


def percentile(sorted_values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of an already sorted list, nearest-rank."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def now_ns() -> int:
    """Monotonic clock in ns (CLOCK_MONOTONIC on Linux: comparable across processes)."""
    return time.monotonic_ns()


def cpu_ns() -> int:
    """CPU time of this process in ns.

    In-process measures time with it rather than the wall clock: on a shared machine the
    process may be descheduled mid-sample, and that time is not the framework's.
    """
    return time.process_time_ns()
