"""benchmarks/telemetry_echo.py and telemetry_fanout.py run and report every row (smoke sizes).

Not a timed test: it only keeps the two scripts working (they are not in benchmarks/run.sh,
whose environment has no OpenTelemetry SDK).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.parametrize("script", ["telemetry_echo.py", "telemetry_fanout.py"])
def test_script_reports_its_rows(script: str) -> None:
    run = subprocess.run(
        [sys.executable, script, "--smoke", "--reps", "1"],
        cwd=BENCH,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    rows = json.loads(run.stdout)["rows"]
    tether_rows = [row for row in rows if row["name"].startswith(("tether", "channels"))]
    assert len(tether_rows) >= 3
    assert all(row["available"] and row["median"] > 0 for row in tether_rows), tether_rows
