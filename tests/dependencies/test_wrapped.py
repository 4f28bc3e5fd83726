"""Wrapped (``functools.wraps``) and partial dependencies run as what they wrap.

A sync wrapper of a generator function returns a generator, so the dependency is a yield
dependency with its teardown; a partial of a callable instance runs as its ``__call__``.
"""

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from tether.applications import Tether
from tether.dependencies.compile import ASYNC, ASYNC_GEN, GEN, SYNC, call_kind
from tether.params import Depends
from tether.testclient import TestClient


def passthrough(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


class GenCall:
    def __call__(self, value: str) -> Iterator[str]:
        yield value


class AsyncGenCall:
    async def __call__(self, value: str) -> AsyncIterator[str]:
        yield value


async def coroutine() -> bool:
    return True


def test_call_kind_looks_through_wrappers_partials_and_instances() -> None:
    assert call_kind(passthrough(GenCall())) == GEN
    assert call_kind(functools.partial(GenCall(), "v")) == GEN
    assert call_kind(functools.partial(AsyncGenCall(), "v")) == ASYNC_GEN
    assert call_kind(passthrough(coroutine)) == ASYNC
    assert call_kind(passthrough(GenCall)) == SYNC
    assert call_kind(functools.partial(passthrough(coroutine))) == ASYNC


def test_wrapped_and_partial_generator_dependencies_yield_and_tear_down() -> None:
    events: list[str] = []

    def resource() -> Iterator[str]:
        events.append("open")
        yield "wrapped"
        events.append("close")

    app = Tether()

    @app.get("/wrapped")
    def wrapped(value: str = Depends(passthrough(resource))) -> str:
        return value

    @app.get("/partial")
    async def partial(value: str = Depends(functools.partial(AsyncGenCall(), "bound"))) -> str:
        return value

    @app.get("/endpoint")
    @passthrough
    async def endpoint() -> bool:
        return True

    client = TestClient(app)
    assert client.get("/wrapped").json() == "wrapped"
    assert events == ["open", "close"]
    assert client.get("/partial").json() == "bound"
    assert client.get("/endpoint").json() is True
