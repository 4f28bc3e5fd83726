"""Route options set on routers and apps: strict_content_type through include_router."""

from __future__ import annotations

from typing import Any

from tether import Router, Tether
from tether.testclient import TestClient

RAW = '{"a": 1}'  # sent without a Content-Type


def _router(**options: Any) -> Router:
    router = Router(**options)

    @router.post("/data")
    async def data(data: dict) -> Any:  # type: ignore[type-arg]
        return data

    return router


def _accepts(client: TestClient, path: str) -> bool:
    response = client.post(path, content=RAW)
    assert response.status_code in (200, 422), response.text
    return response.status_code == 200


def test_strict_content_type_innermost_given_level_wins() -> None:
    app = Tether(strict_content_type=False)
    app.include_router(_router(prefix="/strict", strict_content_type=True))
    app.include_router(_router(prefix="/default"))
    outer = Router(prefix="/outer", strict_content_type=True)
    outer.include_router(_router(prefix="/lax", strict_content_type=False))
    outer.include_router(_router(prefix="/plain"))
    app.include_router(outer)
    app.include_router(_router(prefix="/by-include"), strict_content_type=True)

    @app.post("/app")
    async def on_app(data: dict) -> Any:  # type: ignore[type-arg]
        return data

    client = TestClient(app)
    assert _accepts(client, "/app")
    assert not _accepts(client, "/strict/data")
    assert _accepts(client, "/default/data")  # a router without a setting: the app's
    assert _accepts(client, "/outer/lax/data")
    assert not _accepts(client, "/outer/plain/data")  # the outer router's
    assert not _accepts(client, "/by-include/data")


def test_strict_by_default() -> None:
    app = Tether()
    app.include_router(_router(prefix="/r"))
    client = TestClient(app)
    assert not _accepts(client, "/r/data")
    assert client.post("/r/data", json={"a": 1}).json() == {"a": 1}
