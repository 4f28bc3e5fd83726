"""Dependency injection on HTTP routes, through the real app and both test clients."""

from typing import Any

from tether.applications import Tether
from tether.params import Body, Depends, Query
from tether.testclient import AsyncTestClient, TestClient


def test_query_body_and_422() -> None:
    app = Tether()

    @app.post("/items")
    async def create(name: str = Body(embed=True), count: int = Query(1, ge=1)) -> dict[str, Any]:
        return {"name": name, "count": count}

    client = TestClient(app)
    assert client.post("/items?count=2", json={"name": "n"}).json() == {"name": "n", "count": 2}
    response = client.post("/items?count=0", json={})
    assert response.status_code == 422
    locs = [error["loc"] for error in response.json()["detail"]]
    assert locs == [["body", "name"], ["query", "count"]]


def test_yield_cleanup_runs_after_the_response_and_sees_errors() -> None:
    events: list[str] = []

    async def resource() -> Any:
        try:
            yield "r"
        except RuntimeError:
            events.append("saw error")
            raise
        events.append("closed")

    app = Tether()

    @app.get("/ok")
    async def ok(r: str = Depends(resource)) -> str:
        return r

    client = TestClient(app)
    assert client.get("/ok").json() == "r"
    assert events == ["closed"]


async def test_cache_and_overrides_with_async_client() -> None:
    calls = {"n": 0}

    def counted() -> int:
        calls["n"] += 1
        return calls["n"]

    async def a(v: int = Depends(counted)) -> int:
        return v

    app = Tether()

    @app.get("/")
    async def root(x: int = Depends(a), y: int = Depends(counted)) -> list[int]:
        return [x, y]

    async with AsyncTestClient(app) as client:
        assert (await client.get("/")).json() == [1, 1]
        app.dependency_overrides[counted] = lambda: 42
        assert (await client.get("/")).json() == [42, 42]
