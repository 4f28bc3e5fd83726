"""include_router edge cases: a route with an empty path, and a router included in itself."""

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tether import Router, Tether
from tether.exceptions import ConfigurationError
from tether.requests import Request
from tether.testclient import TestClient


def test_an_empty_route_path_takes_the_prefix_it_is_included_under() -> None:
    router = Router()

    @router.get("")
    def root() -> list[str]:
        return ["ok"]

    app = Tether()
    app.include_router(router, prefix="/items")
    client = TestClient(app)
    assert client.get("/items").json() == ["ok"]
    assert client.get("/items/").json() == ["ok"]  # redirected to /items
    with pytest.raises(ConfigurationError, match="cannot both be empty"):
        app.include_router(router)


def test_a_router_cannot_include_itself() -> None:
    router = Router()
    with pytest.raises(AssertionError, match="into itself"):
        router.include_router(router)


def test_included_routers_lifespans_run_inside_the_apps_and_merge_their_state() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def app_lifespan(app: Any) -> AsyncIterator[dict[str, str]]:
        events.append("app up")
        yield {"owner": "app", "app": "yes"}
        events.append("app down")

    async def router_lifespan(app: Any) -> AsyncIterator[dict[str, str]]:
        events.append("router up")
        yield {"owner": "router", "router": "yes"}
        events.append("router down")

    def sub_lifespan(app: Any) -> Iterator[None]:  # a sync generator: no state
        events.append("sub up")
        yield
        events.append("sub down")

    sub = Router(lifespan=sub_lifespan)
    router = Router(lifespan=router_lifespan)
    router.include_router(sub)
    app = Tether(lifespan=app_lifespan)
    app.include_router(router)

    @app.get("/")
    def read(request: Request) -> list[str]:
        return [request.state.owner, request.state.app, request.state.router]

    with TestClient(app) as client:
        assert events == ["app up", "router up", "sub up"]
        assert client.get("/").json() == ["app", "yes", "yes"]
    assert events[3:] == ["sub down", "router down", "app down"]


def test_lifespans_without_state_merge_to_none() -> None:
    @contextlib.asynccontextmanager
    async def quiet(app: Any) -> AsyncIterator[None]:
        yield

    router = Router(lifespan=quiet)
    app = Tether(lifespan=quiet)
    app.include_router(router)
    with TestClient(app) as client:
        assert not client.app_state
