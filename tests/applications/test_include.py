"""include_router edge cases: a route with an empty path, and a router included in itself."""

import pytest

from tether import Router, Tether
from tether.exceptions import ConfigurationError
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
