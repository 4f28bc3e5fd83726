"""WebSocketDisconnect keeps its code, reason, args and extra attributes through copies."""

import copy
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from tether.websockets import WebSocketDisconnect

COPIES: list[Callable[[Any], Any]] = [
    lambda exc: pickle.loads(pickle.dumps(exc)),
    copy.copy,
    copy.deepcopy,
]


@pytest.mark.parametrize("duplicate", COPIES, ids=["pickle", "copy", "deepcopy"])
@pytest.mark.parametrize(
    ("exc", "code", "reason", "args"),
    [
        (WebSocketDisconnect(), 1000, "", ()),
        (WebSocketDisconnect(code=1006), 1006, "", ()),
        (WebSocketDisconnect(1001, "bye"), 1001, "bye", (1001, "bye")),
        (WebSocketDisconnect(1005, None), 1005, "", (1005, None)),
    ],
)
def test_copies_keep_the_state(
    duplicate: Callable[[Any], Any], exc: WebSocketDisconnect, code: int, reason: str, args: Any
) -> None:
    exc.note = "kept"  # type: ignore[attr-defined]
    again = duplicate(exc)
    assert type(again) is WebSocketDisconnect
    assert (again.code, again.reason, again.args, again.note) == (code, reason, args, "kept")
