"""Which of FastAPI's published telemetry tests run against tether, and where tether differs.

FastAPI's ``tests/test_telemetry/`` from the same sdist as ``fastapi_tests.CURATED``, run by
``test_fastapi_telemetry_published.py`` apart from the rest because some of its tests run their
body in a fresh interpreter (``sitecustomize.py`` puts the alias there). Left out, with the
reason in docs/compat.md entry 39: ``test_integrations.py``, ``test_native_integrations.py`` and
``test_environment_integrations.py`` (third-party instrumentations that patch FastAPI itself) and
``test_runtime.py`` (FastAPI's private ``_runtime`` module).
"""

from __future__ import annotations

MODULES: tuple[str, ...] = (
    "tests/test_telemetry/test_background.py",
    "tests/test_telemetry/test_data.py",
    "tests/test_telemetry/test_exceptions.py",
    "tests/test_telemetry/test_http.py",
    "tests/test_telemetry/test_operations.py",
    "tests/test_telemetry/test_semantic_conventions.py",
    "tests/test_telemetry/test_tracer.py",
    "tests/test_telemetry/test_websockets.py",
)

_BACKGROUND = "tests/test_telemetry/test_background.py::"
_TRIO = (35, "the test client runs apps on asyncio only: TestClient(backend='trio') is refused")
_ERROR_TYPE = (
    39,
    "error.type names tether's class, tether.exceptions.HTTPException, not FastAPI's",
)
_INSTRUMENTED = (
    39,
    "installs a third-party instrumentation of FastAPI itself (contrib, Logfire), which does not "
    "apply to tether",
)
_SIGNED = (
    "tests/test_telemetry/test_semantic_conventions.py::test_url_attributes_do_not_split_metrics"
    "[?x-amz-signature=keep&x-amz-credential=keep&x-amz-security-token=keep&SIG=keep"
    "&x-goog-signature=keep-x-amz-signature=keep&x-amz-credential=keep"
    "&x-amz-security-token=keep&SIG=keep&x-goog-signature=keep]"
)

EXPECTED_DIVERGENCES: dict[str, tuple[int, str]] = {
    f"{_BACKGROUND}test_background_task_spans[False-trio]": _TRIO,
    f"{_BACKGROUND}test_background_task_spans[True-trio]": _TRIO,
    f"{_BACKGROUND}test_background_task_failure[True-False]": _ERROR_TYPE,
    f"{_BACKGROUND}test_background_task_failure[True-True]": _ERROR_TYPE,
    f"{_BACKGROUND}test_background_task_integrations[contrib]": _INSTRUMENTED,
    f"{_BACKGROUND}test_background_task_integrations[logfire]": _INSTRUMENTED,
    f"{_BACKGROUND}test_background_task_integrations[native_logfire]": _INSTRUMENTED,
    _SIGNED: (
        40,
        "tether masks signature query values whatever the case of their names; FastAPI keeps "
        "SIG= and the AWS/Google signature names",
    ),
    "tests/test_telemetry/test_websockets.py::test_validation_data[False]": (
        10,
        "a handshake parameter validation error is a 422 denial; the test expects close 1008",
    ),
    "tests/test_telemetry/test_websockets.py::test_validation_data[True]": (
        10,
        "a handshake parameter validation error is a 422 denial; the test expects close 1008",
    ),
}
