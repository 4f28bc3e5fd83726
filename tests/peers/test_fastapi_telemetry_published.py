"""FastAPI's own published telemetry tests, from its sdist on PyPI, run against tether.

As ``test_fastapi_published.py`` does for the rest of FastAPI's suite (the same runner, alias
and strict judgement), for the modules and divergences of ``fastapi_telemetry``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi_telemetry import EXPECTED_DIVERGENCES, MODULES
from peer_runner import read_junit, run
from test_fastapi_published import compat_entries, judge


def test_every_telemetry_divergence_names_an_entry_of_compat_md() -> None:
    entries = compat_entries()
    for nodeid, (entry, reason) in EXPECTED_DIVERGENCES.items():
        assert entry in entries, f"{nodeid} names compat entry {entry}, which does not exist"
        assert reason.strip(), nodeid


@pytest.mark.timeout(900)
def test_fastapi_published_telemetry_tests_run_on_tether(tmp_path: Path) -> None:
    report = tmp_path / "telemetry.xml"
    finished = run(list(MODULES), junit=report)
    assert finished.returncode in (0, 1), finished.stdout[-4000:] + finished.stderr[-4000:]
    outcomes = read_junit(report)
    problems = judge(outcomes, EXPECTED_DIVERGENCES)
    passed = sum(outcome.result == "passed" for outcome in outcomes)
    print(
        f"FastAPI telemetry: {len(MODULES)} modules, {len(outcomes)} tests: {passed} passed, "
        f"{len(EXPECTED_DIVERGENCES)} deliberate divergences"
    )
    assert not problems, "\n".join(problems)
