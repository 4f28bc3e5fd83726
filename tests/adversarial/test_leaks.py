"""Nothing secret or internal leaves the server: tokens stay masked in logs, and no denial body,
close reason or error frame carries a traceback, a file path or an internal name.

Log masking is installed as docs/deployment.md says (``install_log_masking()``); the server
logs at DEBUG so every record uvicorn and tether write is seen.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from adversarial.conftest import SECRET, build_app
from rawws import CLOSE, TEXT, RawWebSocket
from servers import uvicorn_thread
from tether.logsafe import install_log_masking

pytestmark = [pytest.mark.adversarial, pytest.mark.integration, pytest.mark.timeout(30)]

INTERNALS = ("Traceback", 'File "', ".py", "tether.", "ValueError", "RuntimeError", "bad token")


@pytest.fixture(scope="module")
def debug_port() -> Iterator[int]:
    names = ("uvicorn.access", "uvicorn.error", "uvicorn.asgi", "uvicorn", "tether")
    masking = install_log_masking(names)
    try:
        with uvicorn_thread(build_app(), log_level="debug") as base:
            yield int(base.rsplit(":", 1)[1])
    finally:  # the filter is process-wide: leave the other tests' loggers as they were
        for name in names:
            logging.getLogger(name).removeFilter(masking)


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record's message and traceback, as a handler would write them."""
    formatter = logging.Formatter("%(name)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def crash_after_accept(port: int, query: str, headers: list[tuple[str, str]]) -> tuple[int, str]:
    with RawWebSocket.open(port) as ws:
        response = ws.handshake("/private?" + query, headers)
        assert response.status == 101
        frame = ws.read_frame()
        assert frame is not None and (frame.opcode, frame.payload) == (TEXT, b"welcome")
        ws.send_text("go")
        _, close = ws.read_until_close()
        assert close is not None and close.opcode == CLOSE
        return close.close_code or 0, close.close_reason


@pytest.mark.parametrize(
    "query",
    [f"token={SECRET}", f"x=1&access_token={SECRET}&token={SECRET}", f"tok%65n={SECRET}"],
    ids=["token", "several", "percent-encoded name"],
)
def test_query_tokens_are_masked_in_every_log_record(
    debug_port: int, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    with caplog.at_level(logging.DEBUG):
        assert crash_after_accept(debug_port, query, []) == (1011, "internal error")
    text = logged(caplog)
    assert "crash after accept" in text  # the error was logged...
    assert SECRET not in text  # ... and nothing logged the token


def test_denials_and_closes_carry_nothing_internal(debug_port: int) -> None:
    with RawWebSocket.open(debug_port) as ws:
        denied = ws.handshake(f"/private?token=wrong-{SECRET}")
    assert (denied.status, denied.body) == (500, b"Internal Server Error")
    with RawWebSocket.open(debug_port) as ws:
        unknown = ws.handshake(f"/nowhere?token={SECRET}")
    assert (unknown.status, unknown.body) == (404, b'{"detail":"Not Found"}')
    with RawWebSocket.open(debug_port) as ws:
        invalid = ws.handshake(f"/items/abc?token={SECRET}")
    assert invalid.status == 422
    assert json.loads(invalid.body) == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["path", "item_id"],
                "msg": json.loads(invalid.body)["detail"][0]["msg"],
                "input": "abc",
            }
        ]
    }
    code, reason = crash_after_accept(debug_port, f"token={SECRET}", [])
    assert (code, reason) == (1011, "internal error")  # fixed words, not the exception
    for text in (denied.body, unknown.body, invalid.body, reason.encode()):
        assert not any(marker.encode() in text for marker in INTERNALS), text
        assert SECRET.encode() not in text


def test_channel_error_frames_carry_nothing_internal(debug_port: int) -> None:
    frames = [
        "not json",
        '{"type": "subscribe"}',
        '{"type": "subscribe", "channel": "room:\\u0000"}',
        '{"type": "history", "channel": "room:a", "since": {"offset": "x"}}',
        '{"type": "publish", "channel": "room:a", "data": ' + "[" * 2000 + "]" * 2000 + "}",
    ]
    seen: list[str] = []
    for frame in frames:
        with RawWebSocket.open(debug_port) as ws:
            assert ws.handshake(f"/channels?token={SECRET}").status == 101
            ws.read_frame()  # connected
            ws.send_text(frame)
            answer = ws.read_frame()
            assert answer is not None
            if answer.opcode == CLOSE:
                seen.append(f"{answer.close_code} {answer.close_reason}")
            else:
                seen.append(answer.payload.decode())
    assert seen[0] == "4003 frames must be JSON objects"
    codes = [json.loads(text)["error"]["code"] for text in seen[1:]]
    assert codes == ["bad_request", "bad_channel", "bad_request", "bad_request"]
    for text in seen:
        assert not any(marker in text for marker in INTERNALS), text
