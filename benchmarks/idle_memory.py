"""Measure (e): idle memory per WebSocket connection under uvicorn, KiB.

Each app runs under uvicorn (pinned to CPU 0); ``loadgen.py idle`` (pinned to CPU 1) opens C
connections to ``/ws``, where every endpoint sits in ``receive_text()``, waits for the server to
settle, and reads the server's RSS growth. Two variants: ``whole process`` (RSS growth per
connection) and ``framework share`` (the same minus the raw ASGI app's figure of the same
repetition). Kernel socket buffers are not in RSS. Implementations alternate within each
repetition; a fresh server per sample.

Run alone: ``benchmarks/.venv/bin/python benchmarks/idle_memory.py [--smoke]``.
"""

from __future__ import annotations

import json
import os

import apps
from _common import Row, base_parser, emit, rotated, unavailable
from _server import run_client, uvicorn_server


def one_sample(name: str, conns: int) -> float:
    """KiB of server RSS growth per idle connection for ``name``'s app."""
    with uvicorn_server(f"{name}_app") as (port, pid):
        url = f"ws://127.0.0.1:{port}/ws"
        run_client(["loadgen.py", "echo", url, "2", "20", "16"])  # import and warm the paths
        result = json.loads(run_client(["loadgen.py", "idle", url, str(conns), str(pid)]))
        if result["connections"] != conns:
            raise RuntimeError(f"{name}: opened {result['connections']} of {conns} connections")
        return float(result["kib_per_connection"])


def measure(conns: int, reps: int) -> list[Row]:
    """Alternate every available implementation ``reps`` times."""
    rows: list[Row] = []
    live: list[tuple[Row, Row]] = []
    for name in apps.FRAMEWORKS:
        app, reason = apps.try_build(name)
        if app is None:
            rows += [unavailable(name, v, reason) for v in ("whole process", "framework share")]
            continue
        pair = (Row(name, "whole process"), Row(name, "framework share"))
        live.append(pair)
        rows += pair
    raw_index = [whole.name for whole, _ in live].index("raw")
    for rep in range(reps):
        this_rep: dict[str, float] = {}
        for whole, _share in rotated(live, rep):
            this_rep[whole.name] = one_sample(whole.name, conns)
            whole.samples.append(this_rep[whole.name])
        for whole, share in live:
            share.samples.append(this_rep[whole.name] - this_rep[live[raw_index][0].name])
    return rows


def main() -> None:
    """Parse options, measure, print JSON."""
    args = base_parser(__doc__ or "").parse_args()
    conns = 50 if args.smoke else int(os.environ.get("TETHER_BENCH_IDLE_CONNS", "5000"))
    reps = args.reps or (1 if args.smoke else 3)
    rows = measure(conns, reps)
    emit(
        "idle_memory",
        f"Idle memory per connection on uvicorn at {conns:,} connections, KiB",
        "KiB",
        rows,
        {
            "connections": conns,
            "reps": reps,
            "server": "uvicorn --ws websockets-sansio --loop uvloop",
        },
    )


if __name__ == "__main__":
    main()
