"""Measure (d): end-to-end text echo under uvicorn, messages/s and p50/p99 latency.

Each app runs under ``uvicorn --ws websockets-sansio --loop uvloop`` pinned to CPU 0; the load
generator (``loadgen.py echo``, a picows client on uvloop) is pinned to CPU 1 and runs C
connections x N sequential round trips of a 64-byte text frame. A fresh server per sample;
implementations alternate within each repetition. The server's CPU use during the load is
recorded, to show it was the bottleneck (about 100 %), and reported per message (server CPU
µs/msg), which other processes on a shared machine disturb far less than the rate.

Run alone: ``benchmarks/.venv/bin/python benchmarks/e2e_echo.py [--smoke]``.
"""

from __future__ import annotations

import json
from typing import Any

import apps
from _common import Row, base_parser, emit, rotated, unavailable
from _server import cpu_seconds, run_client, uvicorn_server

PAYLOAD = 64
# Result key -> row variant. Server CPU per message is the figure least disturbed by other
# processes on a shared machine (wall-clock rates drop when the server is descheduled).
VARIANTS = {
    "msgs_per_s": "msgs/s",
    "p50_us": "p50 µs",
    "p99_us": "p99 µs",
    "server_cpu_us": "server CPU µs/msg",
}


def one_sample(name: str, conns: int, n: int) -> dict[str, Any]:
    """Start ``name``'s server, run the load once, stop it; return the load result."""
    with uvicorn_server(f"{name}_app") as (port, pid):
        url = f"ws://127.0.0.1:{port}/ws"
        run_client(["loadgen.py", "echo", url, "2", "20", str(PAYLOAD)])  # warm up
        cpu_before = cpu_seconds(pid)
        result: dict[str, Any] = json.loads(
            run_client(["loadgen.py", "echo", url, str(conns), str(n), str(PAYLOAD)])
        )
        busy = cpu_seconds(pid) - cpu_before
        result["server_cpu_pct"] = 100 * busy / (result["round_trips"] / result["msgs_per_s"])
        result["server_cpu_us"] = busy / result["round_trips"] * 1e6
        return result


def measure(conns: int, n: int, reps: int) -> list[Row]:
    """Alternate every available implementation ``reps`` times."""
    rows: list[Row] = []
    live: list[dict[str, Row]] = []
    for name in apps.FRAMEWORKS:
        app, reason = apps.try_build(name)
        if app is None:
            rows += [unavailable(name, v, reason) for v in VARIANTS.values()]
            continue
        by_key = {key: Row(name, variant) for key, variant in VARIANTS.items()}
        by_key["msgs_per_s"].extra["server_cpu_pct"] = []
        live.append(by_key)
        rows += by_key.values()
    for rep in range(reps):
        for by_key in rotated(live, rep):
            result = one_sample(by_key["msgs_per_s"].name, conns, n)
            for key, row in by_key.items():
                row.samples.append(result[key])
            by_key["msgs_per_s"].extra["server_cpu_pct"].append(round(result["server_cpu_pct"], 1))
    return rows


def main() -> None:
    """Parse options, measure, print JSON."""
    args = base_parser(__doc__ or "").parse_args()
    conns, n = (10, 100) if args.smoke else (50, 1_000)
    reps = args.reps or (1 if args.smoke else 7)
    rows = measure(conns, n, reps)
    emit(
        "e2e_echo",
        "End-to-end echo on uvicorn (websockets-sansio, uvloop), server on CPU 0, client on CPU 1",
        "mixed",
        rows,
        {"connections": conns, "round_trips_per_connection": n, "payload_bytes": PAYLOAD,
         "reps": reps, "server": "uvicorn --ws websockets-sansio --loop uvloop"},
        better="higher",
    )  # fmt: skip


if __name__ == "__main__":
    main()
