"""FastAPI's own published tests, from its sdist on PyPI, run against tether.

One subprocess pytest runs the modules listed in ``fastapi_tests.CURATED`` with ``fastapi`` and
``starlette`` answered by tether (``fastapi_alias``). The run passes when every test passes,
except the ones ``fastapi_tests.EXPECTED_DIVERGENCES`` lists, each naming the docs/compat.md
entry it differs by; those must fail (strict: one that starts passing fails the run, so the
table cannot go stale). FastAPI's own skips (a test for Python 3.14 on 3.11) stay skips.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi_tests import CURATED, EXPECTED_DIVERGENCES
from peer_runner import ROOT, Outcome, read_junit, run


def judge(outcomes: list[Outcome], expected: dict[str, tuple[int, str]]) -> list[str]:
    """What is wrong with a run: unexpected failures, unexpected passes, rows that never ran."""
    problems = []
    seen = set()
    for outcome in outcomes:
        seen.add(outcome.nodeid)
        diverges = outcome.nodeid in expected
        if outcome.result in ("failed", "error") and not diverges:
            problems.append(f"FAILED {outcome.nodeid}: {outcome.message}")
        elif outcome.result == "passed" and diverges:
            entry = expected[outcome.nodeid][0]
            problems.append(
                f"PASSED but listed as a divergence (compat entry {entry}): {outcome.nodeid}"
            )
    problems += [f"listed but not run: {nodeid}" for nodeid in expected if nodeid not in seen]
    if not outcomes:
        problems.append("the run reported no test at all")
    return problems


def compat_entries() -> set[int]:
    """The numbers of the entries in docs/compat.md."""
    text = (ROOT / "docs" / "compat.md").read_text()
    return {int(number) for number in re.findall(r"^(\d+)\. \*\*", text, flags=re.MULTILINE)}


def test_every_divergence_names_an_entry_of_compat_md() -> None:
    entries = compat_entries()
    for nodeid, (entry, reason) in EXPECTED_DIVERGENCES.items():
        assert entry in entries, f"{nodeid} names compat entry {entry}, which does not exist"
        assert reason.strip(), nodeid


def test_judge_is_strict() -> None:
    expected = {"t.py::diverges": (59, "why")}
    clean = [Outcome("t.py::ok", "passed"), Outcome("t.py::diverges", "failed")]
    assert judge(clean, expected) == []
    assert judge([*clean, Outcome("t.py::new", "failed", "boom")], expected)
    assert judge([*clean, Outcome("t.py::err", "error")], expected)
    assert judge([Outcome("t.py::ok", "passed"), Outcome("t.py::diverges", "passed")], expected)
    assert judge([Outcome("t.py::ok", "passed")], expected)  # a row that never ran
    assert judge([], {})


@pytest.mark.timeout(900)
def test_fastapi_published_tests_run_on_tether(tmp_path: Path) -> None:
    report = tmp_path / "fastapi.xml"
    finished = run(list(CURATED), junit=report)
    assert finished.returncode in (0, 1), finished.stdout[-4000:] + finished.stderr[-4000:]
    outcomes = read_junit(report)
    problems = judge(outcomes, EXPECTED_DIVERGENCES)
    counts = {
        result: sum(o.result == result for o in outcomes)
        for result in ("passed", "failed", "error", "skipped")
    }
    # A test failing in its call and again in teardown (inline-snapshot) is reported twice.
    functions = len({outcome.nodeid for outcome in outcomes})
    summary = (
        f"FastAPI {len(CURATED)} modules, {functions} tests: {counts['passed']} passed, "
        f"{len(EXPECTED_DIVERGENCES)} deliberate divergences, {counts['skipped']} skipped by "
        "FastAPI's own markers"
    )
    print(summary)
    assert not problems, summary + "\n" + "\n".join(problems)
