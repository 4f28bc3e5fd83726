"""The precompiled runner (tether.dependencies.fast) gives what the general solver gives."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tether.dependencies import EndpointPlan
from tether.exceptions import WebSocketRequestValidationError
from tether.params import Depends, Path, Query
from tether.websockets import WebSocket


async def _never(*args: Any) -> Any:
    raise AssertionError("no I/O expected")


class FakeApp:
    def __init__(self) -> None:
        self.dependency_overrides: dict[Any, Any] = {}


def ws(query: bytes = b"", path_params: dict[str, Any] | None = None, app: Any = None) -> Any:
    scope: dict[str, Any] = {"type": "websocket", "path": "/", "query_string": query, "headers": []}
    if path_params is not None:
        scope["path_params"] = path_params
    if app is not None:
        scope["app"] = app
    return WebSocket(scope, _never, _never)  # type: ignore[arg-type]


async def user(websocket: WebSocket) -> str:
    return "u:" + websocket.scope["path"]


async def endpoint(websocket: WebSocket, room: str, q: str = "", who: str = Depends(user)) -> Any:
    return (type(websocket).__name__, room, q, who)


def is_fast(plan: EndpointPlan) -> bool:
    return getattr(plan.connection_call, "__name__", "") == "fast_run"


async def both(plan: EndpointPlan, connection: Any) -> Any:
    """Run the fast runner and the general run; they must agree (result or errors)."""
    outcomes = []
    for call in (plan.connection_call, plan.run):
        try:
            outcomes.append(("ok", await call(connection)))
        except WebSocketRequestValidationError as exc:
            outcomes.append(("error", exc.errors()))
    assert outcomes[0] == outcomes[1]
    return outcomes[0]


async def test_the_common_shape_is_fast_and_agrees() -> None:
    plan = EndpointPlan.compile(endpoint, websocket=True, path="/{room}")
    assert is_fast(plan)
    connection = ws(b"q=hello&x=1", {"room": "lobby"})
    assert await both(plan, connection) == ("ok", ("WebSocket", "lobby", "hello", "u:/"))


@pytest.mark.parametrize(
    "query", [b"", b"q=a&q=b", b"q=%20x+y", b"q", b"&&q=1&", b"other=1"], ids=repr
)
async def test_query_strings_agree(query: bytes) -> None:
    plan = EndpointPlan.compile(endpoint, websocket=True, path="/{room}")
    await both(plan, ws(query, {"room": "r"}))


async def test_missing_and_converted_values_go_to_the_extractor() -> None:
    plan = EndpointPlan.compile(endpoint, websocket=True, path="/{room}")
    kind, errors = await both(plan, ws(b"q=1", {}))
    assert kind == "error" and errors[0]["loc"] == ("path", "room")
    # A route convertor may have made the path value an int: the extractor turns it to str.
    assert await both(plan, ws(b"", {"room": 7})) == ("ok", ("WebSocket", "7", "", "u:/"))


async def test_aliases_route_dependencies_and_order() -> None:
    calls: list[str] = []

    async def first(websocket: WebSocket) -> None:
        calls.append("first")

    async def second(websocket: WebSocket) -> str:
        calls.append("second")
        return "2"

    async def target(
        two: str = Depends(second),
        name: str = Query("n", alias="the-name"),
        websocket: WebSocket = None,  # type: ignore[assignment]
        room: str = Path(),
    ) -> Any:
        calls.append("endpoint")
        return (two, name, room, websocket is not None)

    plan = EndpointPlan.compile(target, websocket=True, dependencies=[Depends(first)])
    assert is_fast(plan)
    assert await plan.connection_call(ws(b"the-name=x", {"room": "r"})) == ("2", "x", "r", True)
    assert calls == ["first", "second", "endpoint"]


async def test_overrides_use_the_general_run() -> None:
    async def fake() -> str:
        return "fake"

    app = FakeApp()
    plan = EndpointPlan.compile(endpoint, websocket=True, path="/{room}")
    app.dependency_overrides[user] = fake
    result = await plan.connection_call(ws(b"", {"room": "r"}, app=app))
    assert result == ("WebSocket", "r", "", "fake")


async def test_other_shapes_are_not_fast() -> None:
    async def keyword_only(websocket: WebSocket, *, room: str) -> None: ...

    async def typed(websocket: WebSocket, room: int) -> None: ...

    async def dep_with_query(q: str = "") -> str:
        return q

    async def deep(websocket: WebSocket, v: str = Depends(dep_with_query)) -> None: ...

    for func in (keyword_only, typed, deep):
        assert not is_fast(EndpointPlan.compile(func, websocket=True)), func


_QUERY_TEXT = st.text(alphabet="qa=&%+2x0", max_size=12)


@settings(max_examples=300)
@given(st.one_of(_QUERY_TEXT.map(str.encode), _QUERY_TEXT))
async def test_any_query_string_agrees(query: Any) -> None:
    # One query parameter (its own split) and two (parse_last_values), bytes or str.
    async def two(websocket: WebSocket, q: str = "d", a: str = "e") -> Any:
        return (q, a)

    for plan in (
        EndpointPlan.compile(endpoint, websocket=True, path="/{room}"),
        EndpointPlan.compile(two, websocket=True),
    ):
        assert is_fast(plan)
        await both(plan, ws(query, {"room": "r"}))


async def test_an_empty_alias_reads_like_the_solver() -> None:
    async def blank(websocket: WebSocket, v: str = Query("none", alias="")) -> Any:
        return v

    plan = EndpointPlan.compile(blank, websocket=True)
    for query in (b"", b"=x", b"a=1", b"=1&=2"):
        await both(plan, ws(query))
