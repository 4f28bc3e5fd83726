"""Run every benchmark script, aggregate their JSON, write RESULTS.md and PNG charts.

Usage (normally through ``bash benchmarks/run.sh``)::

    python driver.py [--smoke] [--out DIR] [--only NAME ...]

Each measure runs as its own process (``python <measure>.py [--smoke]``), which alternates
tether and the peers inside it. A script that crashes, prints no JSON, or times out is recorded
and makes the driver exit with status 1 after writing what it has; a tether API that does not
exist yet is *not* a crash (its rows say "not available").
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import report

HERE = Path(__file__).resolve().parent
MEASURES = (
    "inproc_echo",
    "inproc_connect",
    "route_matching",
    "typed_messages",
    "telemetry_echo",
    "fanout",
    "telemetry_fanout",
    "sse_stream",
    "http_json",
    "centrifuge_protocol",
    "cross_node",
    "redis_modes",
    "redis_latency",
    "redis_ingest",
    "e2e_echo",
    "idle_memory",
)
TIMEOUT_S = {"smoke": 120, "full": 900}


def run_measure(name: str, smoke: bool) -> tuple[dict[str, Any] | None, str, float]:
    """Run one measure's script; return (its JSON, an error text or "", seconds taken)."""
    argv = [sys.executable, str(HERE / f"{name}.py"), *(["--smoke"] if smoke else [])]
    start = time.monotonic()
    try:
        done = subprocess.run(
            argv, cwd=HERE, capture_output=True, text=True, check=False,
            timeout=TIMEOUT_S["smoke" if smoke else "full"],
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return None, "timed out", time.monotonic() - start
    took = time.monotonic() - start
    if done.returncode != 0:
        return None, f"exit {done.returncode}: {done.stderr.strip()[-3000:]}", took
    try:
        return json.loads(done.stdout.strip().splitlines()[-1]), "", took
    except (json.JSONDecodeError, IndexError):
        return None, f"no JSON on stdout: {done.stdout[-500:]} {done.stderr[-1500:]}", took


def main() -> int:
    """Run the selected measures, write the report; 1 when any script failed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--only", nargs="*", choices=MEASURES)
    args = parser.parse_args()
    selected = args.only or list(MEASURES)
    started = dt.datetime.now(dt.UTC)
    meta = report.environment(started, args.smoke)
    results: list[dict[str, Any]] = []
    failures: dict[str, str] = {}
    for name in selected:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        doc, error, took = run_measure(name, args.smoke)
        if doc is None:
            failures[name] = error
            print(f"[bench] {name} FAILED after {took:.1f} s: {error}", file=sys.stderr, flush=True)
            continue
        doc["seconds"] = round(took, 1)
        results.append(doc)
        print(f"[bench] {name} done in {took:.1f} s", file=sys.stderr, flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    final_commit = report.git_commit()
    if final_commit != meta["git_commit"]:
        # Other work landed in the tree while this ran: say which figures may mix versions.
        meta["git_commit"] = (
            f"{meta['git_commit']} at start, {final_commit} at the end (changed during the run)"
        )
    (args.out / "results.json").write_text(
        json.dumps({"meta": meta, "results": results, "failures": failures}, indent=1)
    )
    report.write(args.out, meta, results, failures)
    print(f"[bench] wrote {args.out / 'RESULTS.md'}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
