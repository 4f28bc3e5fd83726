"""tether.status: HTTP and WebSocket constants."""

from __future__ import annotations

import http

import pytest

from tether import status

WS_CODES = {
    "WS_1000_NORMAL_CLOSURE": 1000,
    "WS_1001_GOING_AWAY": 1001,
    "WS_1002_PROTOCOL_ERROR": 1002,
    "WS_1003_UNSUPPORTED_DATA": 1003,
    "WS_1005_NO_STATUS_RCVD": 1005,
    "WS_1006_ABNORMAL_CLOSURE": 1006,
    "WS_1007_INVALID_FRAME_PAYLOAD_DATA": 1007,
    "WS_1008_POLICY_VIOLATION": 1008,
    "WS_1009_MESSAGE_TOO_BIG": 1009,
    "WS_1010_MANDATORY_EXT": 1010,
    "WS_1011_INTERNAL_ERROR": 1011,
    "WS_1012_SERVICE_RESTART": 1012,
    "WS_1013_TRY_AGAIN_LATER": 1013,
    "WS_1014_BAD_GATEWAY": 1014,
    "WS_1015_TLS_HANDSHAKE": 1015,
}


def test_websocket_codes_exactly() -> None:
    ws_names = [name for name in status.__all__ if name.startswith("WS_")]
    assert sorted(ws_names) == sorted(WS_CODES)
    for name, value in WS_CODES.items():
        assert getattr(status, name) == value


def test_every_http_status_has_a_constant() -> None:
    values = {getattr(status, name) for name in status.__all__ if name.startswith("HTTP_")}
    assert {s.value for s in http.HTTPStatus} <= values
    assert status.HTTP_200_OK == 200 and status.HTTP_422_UNPROCESSABLE_CONTENT == 422
    for name in status.__all__:
        assert name.split("_")[1] == str(getattr(status, name))


def test_deprecated_aliases_warn() -> None:
    with pytest.warns(DeprecationWarning, match="HTTP_422_UNPROCESSABLE_CONTENT"):
        assert status.HTTP_422_UNPROCESSABLE_ENTITY == 422


@pytest.mark.parametrize("name", ["WS_1004_NO_STATUS_RCVD", "WS_1005_ABNORMAL_CLOSURE", "NOPE"])
def test_unknown_names(name: str) -> None:
    with pytest.raises(AttributeError, match=name):
        getattr(status, name)
