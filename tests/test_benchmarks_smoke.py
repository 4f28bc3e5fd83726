"""The benchmark suite keeps working: ``benchmarks/run.sh --smoke`` runs every measure at tiny
sizes, side by side with the peers, and writes a report (never over benchmarks/RESULTS.md).

This is not a timed test: it only checks that every benchmark script runs and reports.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.integration
@pytest.mark.timeout(900)  # the first run builds benchmarks/.venv with the peers
def test_benchmark_smoke_run_reports_every_measure(tmp_path: Path) -> None:
    results_before = (ROOT / "benchmarks" / "RESULTS.md").read_bytes()
    env = {**os.environ, "TETHER_BENCH_OUT": str(tmp_path)}
    run = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "run.sh"), "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=880,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    for section in ("In-process echo", "connection lifetime", "Route matching", "fan-out"):
        assert section.lower() in report.lower(), f"no {section!r} section in the smoke report"
    results = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert results, "the smoke run recorded no results"
    assert (ROOT / "benchmarks" / "RESULTS.md").read_bytes() == results_before
