"""The Centrifuge client protocol (v2) over tether's channels: every Centrifugo SDK connects.

Mount with ``channels.centrifuge_endpoint(...)`` at ``/connection/websocket``; see
docs/centrifuge.md. JSON needs nothing extra; Protobuf and tokens need the ``centrifuge``
extra (``protobuf``, ``PyJWT``).
"""

from __future__ import annotations

from tether.channels.centrifuge.codes import CentrifugeError, Close, ErrorCode, UnsubscribeCode
from tether.channels.centrifuge.endpoint import CentrifugeEndpoint
from tether.channels.centrifuge.session import Session
from tether.channels.centrifuge.tokens import (
    ConnectClaims,
    InvalidToken,
    SubscribeClaims,
    TokenExpired,
    TokenVerifier,
)

__all__ = [
    "CentrifugeEndpoint",
    "CentrifugeError",
    "Close",
    "ConnectClaims",
    "ErrorCode",
    "InvalidToken",
    "Session",
    "SubscribeClaims",
    "TokenExpired",
    "TokenVerifier",
    "UnsubscribeCode",
]
