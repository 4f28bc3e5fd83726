"""On a real server, a response that does not fit its model is a 500 and one logged error."""

from __future__ import annotations

import httpx
import pytest

from servers import uvicorn_process

pytestmark = pytest.mark.integration


def test_invalid_response_is_500_logged_once_never_sent() -> None:
    with uvicorn_process("tests.applications.response_app:app") as server:
        response = httpx.get(f"http://127.0.0.1:{server.port}/bad", timeout=10)
        assert response.status_code == 500
        assert "s3cr3t" not in response.text
        ok = httpx.get(f"http://127.0.0.1:{server.port}/bad", timeout=10)
        assert ok.status_code == 500
        server.stop()  # the server writes its log records after the response: read them all
        log = server.log()
    assert log.count("ResponseValidationError") == 2  # one record per failed request
    assert "('response', 'id')" in log or "'loc': ('response', 'id')" in log
