"""``run_in_subprocess``: run a test function in a fresh interpreter (FastAPI's helper's API).

OpenTelemetry's global providers can be set once per process, so a test that sets them runs
alone in a new interpreter: the decorated test, called by pytest with its parameters, starts
``python`` on this file with the test's file, name and parameters (as JSON); the child imports
the file, unwraps the function and calls it. The parent fails with the child's output when
the child fails. ``OTEL_*`` variables are left out of the child's environment.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent


def run_in_subprocess(function: Callable[..., Any]) -> Callable[..., None]:
    """Decorate a test so that its body runs in a child interpreter."""
    source = inspect.getsourcefile(function)
    assert source is not None

    @functools.wraps(function)
    def wrapper(**kwargs: Any) -> None:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        paths = [str(TESTS.parent), str(TESTS), environment.get("PYTHONPATH", "")]
        environment["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        command = [sys.executable, __file__, source, function.__name__, json.dumps(kwargs)]
        done = subprocess.run(
            command, env=environment, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr

    return wrapper


def _main(source: str, name: str, arguments: str) -> None:
    spec = importlib.util.spec_from_file_location("subprocess_test_module", source)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    inspect.unwrap(getattr(module, name))(**json.loads(arguments))


if __name__ == "__main__":
    _main(*sys.argv[1:4])
