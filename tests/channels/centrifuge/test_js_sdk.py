"""The real npm ``centrifuge`` SDK (installed by the npm_sdk fixture) under Node, JSON and
Protobuf builds, against tether on uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cf_helpers import run_node, token

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]


@pytest.mark.parametrize("mode", ["json", "protobuf"])
def test_node_sdk_session(served: Any, npm_sdk: Path, mode: str) -> None:
    url, _ = served
    out = run_node(npm_sdk, "sdk_node.js", url, mode, token(ttl=4), token(ttl=3600))
    assert out["connects"] == 1
    assert out["subscribed"] == {"recoverable": True, "positioned": True}
    assert out["pubs"] == [[1, 1], [2, 2], [3, 3], [4, 4], [5, 5]]
    assert out["joins"] == ["alice"]
    assert out["presence"] == ["alice"] and out["stats"] == [1, 1]
    assert out["history"] == [5, 4]
    assert out["rpc"] == {"sum": 42, "user": "alice"}
    assert out["rpcError"] == 1001
    assert out["sent"] == 1
    assert out["refreshes"] >= 1 and out["afterRefresh"] == 2
