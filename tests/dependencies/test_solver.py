"""EndpointPlan: dependency kinds, caching, overrides, lifetimes and registration errors."""

import threading
from contextlib import AsyncExitStack, suppress
from typing import Annotated, Any

import pytest

from tether.dependencies import EndpointPlan
from tether.exceptions import ConfigurationError, WebSocketRequestValidationError
from tether.params import Depends, Security
from tether.requests import HTTPConnection, Request
from tether.security import SecurityScopes
from tether.websockets import WebSocket


class FakeApp:
    def __init__(self) -> None:
        self.dependency_overrides: dict[Any, Any] = {}


def ws(query: bytes = b"", app: Any = None) -> WebSocket:
    scope: dict[str, Any] = {"type": "websocket", "path": "/", "query_string": query, "headers": []}
    if app is not None:
        scope["app"] = app
    return WebSocket(scope, _never, _never)  # type: ignore[arg-type]


async def _never(*args: Any) -> Any:
    raise AssertionError("the plan must not do I/O on the socket")


def request(query: bytes = b"") -> Request:
    return Request(
        {"type": "http", "method": "GET", "path": "/", "query_string": query, "headers": []}
    )


async def run(endpoint: Any, conn: Any = None, **compile_kw: Any) -> Any:
    websocket = conn is None or isinstance(conn, WebSocket)
    plan = EndpointPlan.compile(endpoint, websocket=websocket, **compile_kw)
    return await plan.run(conn if conn is not None else ws())


async def test_kinds_of_dependencies() -> None:
    calls: list[str] = []

    def sync_dep() -> str:
        calls.append(threading.current_thread().name)
        return "sync"

    async def async_dep() -> str:
        return "async"

    class ClassDep:
        def __init__(self, q: int = 1) -> None:
            self.q = q

    class CallableDep:
        async def __call__(self, websocket: WebSocket) -> str:
            return "callable"

    async def endpoint(
        a: str = Depends(sync_dep),
        b: str = Depends(async_dep),
        c: ClassDep = Depends(),
        d: Annotated[ClassDep, Depends()] = None,  # type: ignore[assignment]
        e: str = Depends(CallableDep()),
    ) -> Any:
        return a, b, c.q, d.q, e

    assert await run(endpoint, ws(b"q=5")) == ("sync", "async", 5, 5, "callable")
    assert calls and calls[0] != threading.current_thread().name  # ran in a worker thread


async def test_sync_inline_runs_on_the_loop_thread() -> None:
    seen: list[str] = []

    def cheap() -> int:
        seen.append(threading.current_thread().name)
        return 1

    async def endpoint(websocket: WebSocket, v: int = Depends(cheap, sync_inline=True)) -> int:
        return v

    assert await run(endpoint) == 1
    assert seen == [threading.current_thread().name]


async def test_sub_dependencies_and_cache() -> None:
    counter = {"n": 0}

    async def base() -> int:
        counter["n"] += 1
        return counter["n"]

    async def left(v: int = Depends(base)) -> int:
        return v

    async def right(v: int = Depends(base)) -> int:
        return v

    async def fresh(v: int = Depends(base, use_cache=False)) -> int:
        return v

    async def endpoint(
        websocket: WebSocket,
        a: int = Depends(left),
        b: int = Depends(right),
        c: int = Depends(fresh),
    ) -> Any:
        return a, b, c

    assert await run(endpoint) == (1, 1, 2)
    assert await run(endpoint) == (3, 3, 4)  # the cache lives for one run only


async def test_route_dependencies_run_first_in_order() -> None:
    order: list[str] = []

    def make(name: str) -> Any:
        async def dep() -> None:
            order.append(name)

        return dep

    async def endpoint(websocket: WebSocket, _: None = Depends(make("param"))) -> None:
        order.append("endpoint")

    await run(endpoint, dependencies=[Depends(make("app")), Depends(make("route"))])
    assert order == ["app", "route", "param", "endpoint"]


async def test_overrides_from_the_app() -> None:
    async def real() -> str:
        return "real"

    async def endpoint(websocket: WebSocket, v: str = Depends(real)) -> str:
        return v

    app = FakeApp()
    plan = EndpointPlan.compile(endpoint, websocket=True, dependencies=[Depends(real)])
    assert await plan.run(ws(app=app)) == "real"

    async def fake(q: str = "") -> str:
        return "fake" + q

    app.dependency_overrides[real] = fake
    assert await plan.run(ws(b"q=!", app=app)) == "fake!"
    app.dependency_overrides.clear()
    assert await plan.run(ws(app=app)) == "real"


async def test_override_with_a_generator_is_cleaned_up() -> None:
    events: list[str] = []

    async def real() -> str:
        return "real"

    async def fake() -> Any:
        events.append("open")
        yield "fake"
        events.append("close")

    async def endpoint(websocket: WebSocket, v: str = Depends(real)) -> str:
        return v

    app = FakeApp()
    app.dependency_overrides[real] = fake
    assert await run(endpoint, ws(app=app)) == "fake"
    assert events == ["open", "close"]


async def test_yield_cleanup_sees_the_endpoint_exception() -> None:
    events: list[Any] = []

    async def async_resource() -> Any:
        try:
            yield "a"
        except ValueError as exc:
            events.append(("async saw", str(exc)))
            raise
        finally:
            events.append("async closed")

    def sync_resource() -> Any:
        try:
            yield "s"
        except ValueError as exc:
            events.append(("sync saw", str(exc)))
            raise

    async def endpoint(
        websocket: WebSocket, a: str = Depends(async_resource), s: str = Depends(sync_resource)
    ) -> None:
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await run(endpoint)
    # Cleanups run in reverse order of setup.
    assert events == [("sync saw", "boom"), ("async saw", "boom"), "async closed"]


async def test_function_scope_closes_before_connection_scope() -> None:
    events: list[str] = []

    async def per_connection() -> Any:
        yield
        events.append("connection")

    async def per_call() -> Any:
        yield
        events.append("function")

    async def endpoint(
        websocket: WebSocket,
        a: None = Depends(per_connection),
        b: None = Depends(per_call, scope="function"),
    ) -> None:
        events.append("endpoint")

    await run(endpoint)
    assert events == ["endpoint", "function", "connection"]


async def test_exit_stack_defers_connection_cleanups() -> None:
    events: list[str] = []

    async def per_connection() -> Any:
        yield
        events.append("connection")

    async def per_call() -> Any:
        yield
        events.append("function")

    async def endpoint(
        a: None = Depends(per_connection), b: None = Depends(per_call, scope="function")
    ) -> str:
        return "response"

    plan = EndpointPlan.compile(endpoint, websocket=False)
    async with AsyncExitStack() as stack:
        assert await plan.run(request(), exit_stack=stack) == "response"
        assert events == ["function"]
    assert events == ["function", "connection"]


async def test_scope_nesting_is_checked_at_registration() -> None:
    async def short() -> Any:
        yield 1

    async def long(v: int = Depends(short, scope="function")) -> Any:
        yield v

    async def middle(v: int = Depends(short, scope="function")) -> int:
        return v

    async def long_via_middle(v: int = Depends(middle)) -> Any:
        yield v

    for dep in (long, long_via_middle):

        async def endpoint(websocket: WebSocket, v: int = Depends(dep)) -> None:
            pass

        # FastAPI's own sentence: its test_dependency_yield_scope tests match on it.
        expected = (
            f'The dependency "{dep.__name__}" has a scope of "request", it cannot depend on '
            'dependencies with scope "function"'
        )
        with pytest.raises(ConfigurationError, match=expected):
            EndpointPlan.compile(endpoint, websocket=True)

    async def fine(v: int = Depends(long, scope="function")) -> None:
        pass

    async def endpoint_ok(
        websocket: WebSocket, v: None = Depends(middle, scope="function")
    ) -> None:
        pass

    EndpointPlan.compile(endpoint_ok, websocket=True)


async def test_swallowed_exception() -> None:
    async def swallow() -> Any:
        with suppress(ValueError):
            yield

    async def endpoint_ws(websocket: WebSocket, v: None = Depends(swallow)) -> None:
        raise ValueError

    assert await run(endpoint_ws) is None

    async def endpoint_http(v: None = Depends(swallow)) -> None:
        raise ValueError

    with pytest.raises(ConfigurationError, match="a dependency with yield catching it"):
        await run(endpoint_http, request())


async def test_no_dependency_is_called_after_a_validation_error() -> None:
    called: list[str] = []

    async def needs_int(n: int) -> int:
        called.append("needs_int")
        return n

    async def later(m: int) -> int:
        called.append("later")
        return m

    async def endpoint(
        websocket: WebSocket, a: int = Depends(needs_int), b: int = Depends(later)
    ) -> None:
        raise AssertionError

    with pytest.raises(WebSocketRequestValidationError) as info:
        await run(endpoint, ws(b"n=x&m=1"))
    assert called == []
    assert [e["loc"] for e in info.value.errors()] == [("query", "n")]


async def test_http_connection_dependency_serves_both_protocols() -> None:
    async def client_query(conn: HTTPConnection) -> str:
        return type(conn).__name__

    async def ws_endpoint(websocket: WebSocket, kind: str = Depends(client_query)) -> str:
        return kind

    async def http_endpoint(kind: str = Depends(client_query)) -> str:
        return kind

    assert await run(ws_endpoint) == "WebSocket"
    assert await run(http_endpoint, request()) == "Request"


def test_wrong_connection_types_are_refused_at_registration() -> None:
    async def wants_request(req: Request) -> None:
        pass

    async def wants_ws(websocket: WebSocket) -> None:
        pass

    async def ws_endpoint(websocket: WebSocket, v: None = Depends(wants_request)) -> None:
        pass

    with pytest.raises(ConfigurationError, match="Request on a WebSocket route"):
        EndpointPlan.compile(ws_endpoint, websocket=True)
    with pytest.raises(ConfigurationError, match="WebSocket on an HTTP route"):
        EndpointPlan.compile(wants_ws, websocket=False)
    with pytest.raises(ConfigurationError, match="Request on a WebSocket route"):
        EndpointPlan.compile(wants_request, websocket=True, dependencies=[])


def test_sync_websocket_endpoint_and_bad_route_dependencies_are_refused() -> None:
    def sync_endpoint(websocket: WebSocket) -> None:
        pass

    async def endpoint(websocket: WebSocket) -> None:
        pass

    with pytest.raises(ConfigurationError, match="async def"):
        EndpointPlan.compile(sync_endpoint, websocket=True)
    with pytest.raises(ConfigurationError, match="Depends"):
        EndpointPlan.compile(endpoint, websocket=True, dependencies=[lambda: 1])


def test_dependency_cycle_is_refused() -> None:
    def a(v: Any = None) -> None:
        pass

    def b(v: Any = Depends(a)) -> None:
        pass

    a.__defaults__ = (Depends(b),)

    async def endpoint(websocket: WebSocket, v: Any = Depends(a)) -> None:
        pass

    with pytest.raises(ConfigurationError, match="cycle"):
        EndpointPlan.compile(endpoint, websocket=True)


async def test_security_scopes_accumulate() -> None:
    async def current_scopes(security_scopes: SecurityScopes) -> list[str]:
        return security_scopes.scopes

    async def user(scopes: list[str] = Security(current_scopes, scopes=["me"])) -> list[str]:
        return scopes

    async def endpoint(
        websocket: WebSocket,
        a: list[str] = Security(user, scopes=["items"]),
        b: list[str] = Depends(current_scopes),
    ) -> Any:
        return a, b

    assert await run(endpoint) == (["items", "me"], [])


async def test_security_scopes_of_a_route_dependency() -> None:
    seen: list[list[str]] = []

    async def current_scopes(security_scopes: SecurityScopes) -> None:
        seen.append(security_scopes.scopes)

    async def endpoint(websocket: WebSocket) -> None:
        pass

    marker = Security(current_scopes, scopes=["admin"])
    await run(endpoint, dependencies=[marker, Depends(current_scopes)])
    assert seen == [["admin"], []]


async def test_sync_http_endpoint_runs_in_a_thread() -> None:
    def endpoint(q: int) -> str:
        return threading.current_thread().name

    assert await run(endpoint, request(b"q=1")) != threading.current_thread().name


def test_repr() -> None:
    async def endpoint(websocket: WebSocket) -> None:
        pass

    plan = EndpointPlan.compile(endpoint, websocket=True, path="/ws")
    assert "WebSocket" in repr(plan) and "/ws" in repr(plan)


async def test_connection_call_is_the_endpoint_only_when_equivalent() -> None:
    async def positional(websocket: WebSocket) -> Any:
        return websocket

    async def keyword_only(*, websocket: WebSocket) -> Any:
        return websocket

    async def with_query(websocket: WebSocket, q: str = "d") -> Any:
        return websocket, q

    async def two_connections(a: WebSocket, b: HTTPConnection) -> Any:
        return a is b

    conn = ws(b"q=x")
    expected = {
        positional: conn,
        keyword_only: conn,
        with_query: (conn, "x"),
        two_connections: True,
    }
    for endpoint, result in expected.items():
        plan = EndpointPlan.compile(endpoint, websocket=True)
        assert (plan.connection_call == endpoint) is (endpoint is positional)
        assert await plan.connection_call(conn) == result == await plan.run(conn)


async def test_connection_call_with_plain_dependencies_honours_overrides() -> None:
    async def user(q: str = "anon") -> str:
        return q

    async def endpoint(websocket: WebSocket, room: str = "r", who: str = Depends(user)) -> Any:
        return room, who

    async def fake_user() -> str:
        return "fake"

    plan = EndpointPlan.compile(endpoint, websocket=True)
    app = FakeApp()
    assert await plan.connection_call(ws(b"q=ann&room=x", app)) == ("x", "ann")
    app.dependency_overrides[user] = fake_user
    assert await plan.connection_call(ws(b"room=x", app)) == ("x", "fake")
    with pytest.raises(WebSocketRequestValidationError):
        await EndpointPlan.compile(int_endpoint, websocket=True).connection_call(ws(b"n=x"))


async def _int_dep(n: int) -> int:
    return n


async def int_endpoint(websocket: WebSocket, value: int = Depends(_int_dep)) -> Any:
    return value
