"""Issue 21.8: the close-code contract between the server and tether-channels.js, under Node.

Before: 4003 was never delivered (the endpoint returned before the writer sent the close, so
the client saw the TCP connection cut and retried forever); the rate-limit close was 1008,
final for the JS client, so one burst disconnected a user for good; and in
``rate_limit_action="error"`` mode the error frame had no ``id``, so the request never settled.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from pathlib import Path

import pytest
from hostile import make_hub, serve_app

from tether import Tether
from tether.channels.static import CLIENT_JS_PATH
from tether.limits import WebSocketLimits

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

HERE = Path(__file__).resolve().parent


def _limited(action: str) -> tuple[object, Tether]:
    hub = make_hub("memory")
    limits = WebSocketLimits(messages_per_second=1, burst=5, rate_limit_action=action)  # type: ignore[arg-type]
    return hub, Tether(lifespan=hub.lifespan, limits=limits)


def test_close_codes_reach_the_js_client() -> None:
    node = shutil.which("node") or shutil.which("nodejs")
    assert node is not None, "node is needed to test the JavaScript client"
    plain = make_hub("memory")
    closing_hub, closing_app = _limited("close")
    erroring_hub, erroring_app = _limited("error")
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(serve_app(plain))
        closing = stack.enter_context(serve_app(closing_hub, closing_app))  # type: ignore[arg-type]
        erroring = stack.enter_context(serve_app(erroring_hub, erroring_app))  # type: ignore[arg-type]
        result = subprocess.run(
            [
                node,
                "--experimental-websocket",
                "--no-warnings",
                str(HERE / "js_close_codes.js"),
                str(CLIENT_JS_PATH),
                base,
                closing,
                erroring,
            ],
            capture_output=True,
            text=True,
            timeout=50,
        )
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.strip() == "ok"
