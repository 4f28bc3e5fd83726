"""Parameter markers, conversion and validation, checked through EndpointPlan on hand-built scopes."""

import datetime as dt
import enum
import uuid
from typing import Annotated, Any, Literal

import pytest

from tether.dependencies import EndpointPlan
from tether.exceptions import (
    ConfigurationError,
    RequestValidationError,
    WebSocketRequestValidationError,
)
from tether.params import Body, Cookie, Depends, Header, Path, Query, QueryInfo, Security
from tether.requests import Request
from tether.websockets import WebSocket


def scope(
    kind: str = "websocket",
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    path_params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "type": kind,
        "path": "/",
        "query_string": query,
        "headers": headers or [],
        "path_params": path_params or {},
    }


async def _no_receive() -> dict[str, Any]:
    raise AssertionError("not expected")


async def _no_send(message: Any) -> None:
    raise AssertionError("not expected")


async def run_ws(endpoint: Any, path: str = "/", **kw: Any) -> Any:
    plan = EndpointPlan.compile(endpoint, websocket=True, path=path)
    return await plan.run(WebSocket(scope(**kw), _no_receive, _no_send))


async def errors_ws(endpoint: Any, path: str = "/", **kw: Any) -> list[dict[str, Any]]:
    with pytest.raises(WebSocketRequestValidationError) as info:
        await run_ws(endpoint, path, **kw)
    return info.value.errors()


def http_request(body: bytes = b"", **kw: Any) -> Request:
    sent = False
    if body and "headers" not in kw:  # what a client sending JSON says (FastAPI requires it)
        kw["headers"] = [(b"content-type", b"application/json")]

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request({**scope("http", **kw), "method": "POST"}, receive)


async def run_http(endpoint: Any, body: bytes = b"", path: str = "/", **kw: Any) -> Any:
    plan = EndpointPlan.compile(endpoint, websocket=False, path=path)
    return await plan.run(http_request(body, **kw))


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@pytest.mark.parametrize(
    ("annotation", "raw", "expected"),
    [
        (str, "abc", "abc"),
        (int, "42", 42),
        (int, "-7", -7),
        (float, "2.5", 2.5),
        (bool, "true", True),
        (bool, "0", False),
        (bool, "YES", True),
        (
            uuid.UUID,
            "12345678-1234-5678-1234-567812345678",
            uuid.UUID(int=0x12345678123456781234567812345678),
        ),
        (Color, "blue", Color.BLUE),
        (Level, "2", Level.HIGH),
        (dt.date, "2024-02-29", dt.date(2024, 2, 29)),
        (dt.datetime, "2024-01-02T03:04:05", dt.datetime(2024, 1, 2, 3, 4, 5)),
        (dt.datetime, "2024-01-02T03:04:05Z", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)),
        (dt.datetime, "0", dt.datetime(1970, 1, 1, tzinfo=dt.UTC)),
        (Literal["a", "b"], "b", "b"),
        (int | None, "5", 5),
    ],
)
async def test_query_conversion(annotation: Any, raw: str, expected: Any) -> None:
    async def endpoint(websocket: WebSocket, v: annotation) -> Any:  # type: ignore[valid-type]
        return v

    assert await run_ws(endpoint, query=f"v={raw}".encode()) == expected


@pytest.mark.parametrize(
    ("annotation", "raw", "kind"),
    [
        (int, "x", "int_parsing"),
        (int, "1_000", "int_parsing"),
        (int, "1.5", "int_parsing"),
        (float, "abc", "float_parsing"),
        (bool, "maybe", "bool_parsing"),
        (uuid.UUID, "nope", "uuid_parsing"),
        (Color, "green", "enum"),
        (dt.date, "2024-13-01", "date_parsing"),
        (dt.datetime, "yesterday", "datetime_parsing"),
        (Literal["a", "b"], "c", "literal_error"),
    ],
)
async def test_query_conversion_errors(annotation: Any, raw: str, kind: str) -> None:
    async def endpoint(websocket: WebSocket, v: annotation) -> Any:  # type: ignore[valid-type]
        return v

    [error] = await errors_ws(endpoint, query=f"v={raw}".encode())
    assert error["type"] == kind
    assert error["loc"] == ("query", "v")
    assert error["input"] == raw
    assert isinstance(error["msg"], str) and error["msg"]


async def test_defaults_and_missing() -> None:
    async def endpoint(
        websocket: WebSocket,
        a: int,
        b: int = 3,
        c: Annotated[int, Query()] = 4,
        d: int = Query(5),
        e: int | None = None,
        f: list[int] = Query(default_factory=list),
    ) -> Any:
        return a, b, c, d, e, f

    assert await run_ws(endpoint, query=b"a=1") == (1, 3, 4, 5, None, [])
    [error] = await errors_ws(endpoint)
    assert error["type"] == "missing" and error["loc"] == ("query", "a")


async def test_optional_without_default_is_required() -> None:
    async def endpoint(websocket: WebSocket, q: int | None) -> Any:
        return q

    [error] = await errors_ws(endpoint)
    assert error["type"] == "missing"


async def test_mutable_default_is_not_shared() -> None:
    async def endpoint(websocket: WebSocket, items: list[str] = Query(["x"])) -> Any:
        items.append("changed")
        return items

    assert await run_ws(endpoint) == ["x", "changed"]
    assert await run_ws(endpoint) == ["x", "changed"]


async def test_all_errors_are_collected() -> None:
    async def endpoint(
        websocket: WebSocket,
        item_id: int,
        q: int,
        limit: Annotated[int, Query(le=10)],
        x_token: str = Header(),
        session: str = Cookie(),
    ) -> None:
        raise AssertionError("not called")

    errors = await errors_ws(
        endpoint, path="/items/{item_id}", path_params={"item_id": "abc"}, query=b"limit=11"
    )
    assert [(e["loc"], e["type"]) for e in errors] == [
        (("path", "item_id"), "int_parsing"),
        (("query", "q"), "missing"),
        (("query", "limit"), "less_than_equal"),
        (("header", "x-token"), "missing"),
        (("cookie", "session"), "missing"),
    ]
    assert errors[2]["ctx"] == {"le": 10}


async def test_http_errors_use_request_validation_error() -> None:
    async def endpoint(q: int) -> Any:
        return q

    with pytest.raises(RequestValidationError) as info:
        await run_http(endpoint, query=b"q=x")
    assert info.value.errors()[0]["loc"] == ("query", "q")
    assert not isinstance(info.value, WebSocketRequestValidationError)


@pytest.mark.parametrize(
    ("marker", "raw", "kind"),
    [
        (Query(gt=1), "1", "greater_than"),
        (Query(ge=2), "1", "greater_than_equal"),
        (Query(lt=1), "1", "less_than"),
        (Query(le=0), "1", "less_than_equal"),
    ],
)
async def test_numeric_bounds(marker: Any, raw: str, kind: str) -> None:
    async def endpoint(websocket: WebSocket, n: Annotated[int, marker]) -> Any:
        return n

    [error] = await errors_ws(endpoint, query=f"n={raw}".encode())
    assert error["type"] == kind
    assert await run_ws(endpoint, query=b"n=" + (b"2" if kind.startswith("greater") else b"0")) in (
        0,
        2,
    )


async def test_string_constraints() -> None:
    async def endpoint(
        websocket: WebSocket, name: str = Query(min_length=2, max_length=4, pattern=r"^[a-z]+$")
    ) -> Any:
        return name

    assert await run_ws(endpoint, query=b"name=abc") == "abc"
    for raw, kind in [
        ("a", "string_too_short"),
        ("abcde", "string_too_long"),
        ("AB", "string_pattern_mismatch"),
    ]:
        [error] = await errors_ws(endpoint, query=f"name={raw}".encode())
        assert error["type"] == kind


async def test_list_query_collects_repeated_keys_and_counts_items() -> None:
    async def endpoint(
        websocket: WebSocket,
        tag: list[int] = Query(max_length=3),
        kinds: tuple[str, ...] = Query(()),
    ) -> Any:
        return tag, kinds

    assert await run_ws(endpoint, query=b"tag=1&tag=2&kinds=a") == ([1, 2], ("a",))
    errors = await errors_ws(endpoint, query=b"tag=1&tag=x")
    assert errors[0]["loc"] == ("query", "tag", 1)
    [error] = await errors_ws(endpoint, query=b"tag=1&tag=2&tag=3&tag=4")
    assert error["type"] == "too_long"


async def test_query_alias_decoding_and_last_value_wins() -> None:
    async def endpoint(websocket: WebSocket, q: str = Query(alias="item-query")) -> Any:
        return q

    assert await run_ws(endpoint, query=b"item-query=a%20b&item-query=c+d") == "c d"
    [error] = await errors_ws(endpoint, query=b"q=x")
    assert error["loc"] == ("query", "item-query")


async def test_blank_query_value_is_an_empty_string() -> None:
    async def endpoint(websocket: WebSocket, q: str, n: int | None = None) -> Any:
        return q

    assert await run_ws(endpoint, query=b"q=") == ""


async def test_headers_convert_underscores_and_repeat() -> None:
    async def endpoint(
        websocket: WebSocket,
        user_agent: str = Header(),
        x_raw: str = Header("none", convert_underscores=False),
        x_tag: list[str] = Header([]),
        token: Annotated[str, Header(alias="X-API-Key")] = "",
    ) -> Any:
        return user_agent, x_raw, x_tag, token

    headers = [
        (b"User-Agent", b"pytest"),
        (b"x_raw", b"raw"),
        (b"x-tag", b"a"),
        (b"x-tag", b"b"),
        (b"x-api-key", b"k"),
    ]
    assert await run_ws(endpoint, headers=headers) == ("pytest", "raw", ["a", "b"], "k")


async def test_cookies() -> None:
    async def endpoint(
        websocket: WebSocket, session: str = Cookie(), theme: str = Cookie("light")
    ) -> Any:
        return session, theme

    headers = [(b"cookie", b'session="abc"; other=1'), (b"cookie", b"theme=dark")]
    assert await run_ws(endpoint, headers=headers) == ("abc", "dark")


async def test_path_params_and_router_converted_values() -> None:
    async def endpoint(websocket: WebSocket, item_id: int, name: str = Path()) -> Any:
        return item_id, name

    result = await run_ws(
        endpoint, path="/items/{item_id:int}/{name}", path_params={"item_id": 7, "name": "n"}
    )
    assert result == (7, "n")


async def test_pydantic_type_via_adapter() -> None:
    from pydantic import conint

    async def endpoint(websocket: WebSocket, n: conint(multiple_of=5)) -> Any:  # type: ignore[valid-type]
        return n

    assert await run_ws(endpoint, query=b"n=10") == 10
    [error] = await errors_ws(endpoint, query=b"n=7")
    assert error["type"] == "multiple_of"


async def test_http_body_pydantic_model_without_marker() -> None:
    from pydantic import BaseModel

    class Item(BaseModel):
        name: str
        price: float

    async def endpoint(item: Item, q: int = 0) -> Any:
        return item.name, item.price, q

    assert await run_http(endpoint, b'{"name": "x", "price": 1.5}', query=b"q=2") == ("x", 1.5, 2)
    with pytest.raises(RequestValidationError) as info:
        await run_http(endpoint, b'{"price": "cheap"}')
    locs = [e["loc"] for e in info.value.errors()]
    assert locs == [("body", "name"), ("body", "price")]
    with pytest.raises(RequestValidationError) as info:
        await run_http(endpoint, b"{not json")
    assert info.value.errors()[0]["type"] == "json_invalid"
    with pytest.raises(RequestValidationError) as info:
        await run_http(endpoint, b"")
    assert info.value.errors()[0] == {
        "type": "missing",
        "loc": ("body",),
        "msg": info.value.errors()[0]["msg"],
        "input": None,
    }


async def test_http_body_embedded_params_and_msgspec() -> None:
    import msgspec

    class Point(msgspec.Struct):
        x: int
        y: int

    async def endpoint(point: Point = Body(), label: str = Body(), count: int = Body(1)) -> Any:
        return point, label, count

    result = await run_http(endpoint, b'{"point": {"x": 1, "y": 2}, "label": "p"}')
    assert result == (Point(1, 2), "p", 1)
    with pytest.raises(RequestValidationError) as info:
        await run_http(endpoint, b'{"point": {"x": "a", "y": 2}}')
    locs = [e["loc"] for e in info.value.errors()]
    assert locs == [("body", "point"), ("body", "label")]


async def test_single_body_embed_flag() -> None:
    async def endpoint(name: str = Body(embed=True)) -> Any:
        return name

    assert await run_http(endpoint, b'{"name": "n"}') == "n"


def test_body_on_websocket_route_is_refused_at_registration() -> None:
    async def endpoint(websocket: WebSocket, data: dict[str, Any] = Body()) -> None:
        pass

    with pytest.raises(ConfigurationError, match="body"):
        EndpointPlan.compile(endpoint, websocket=True)


def test_unsupported_type_is_refused_at_registration() -> None:
    class Opaque:
        pass

    async def endpoint(websocket: WebSocket, thing: Opaque) -> None:
        pass

    with pytest.raises(ConfigurationError):
        EndpointPlan.compile(endpoint, websocket=True)


@pytest.mark.parametrize(
    ("source", "annotation", "marker"),
    [
        ("Query", "list[Item]", "Query()"),
        ("Query", "tuple[Item, Item]", "Query()"),
        ("Query", "dict[str, Item]", "Query()"),
        ("Query", "dict[str, int] | None", "Query(None)"),
        ("Header", "list[Item]", "Header()"),
        ("Path", "dict[str, int]", "Path()"),
        ("Path", "list[Item]", "Path()"),
    ],
)
def test_structured_request_values_are_refused_with_an_assertion_error(
    source: str, annotation: str, marker: str
) -> None:
    # FastAPI refuses these with ``assert``; its users' tests catch AssertionError.
    from pydantic import BaseModel

    class Item(BaseModel):
        title: str

    namespace: dict[str, Any] = {"Item": Item, "Query": Query, "Header": Header, "Path": Path}
    exec(f"async def endpoint(value: {annotation} = {marker}) -> None: pass", namespace)
    with pytest.raises(ConfigurationError) as info:
        EndpointPlan.compile(namespace["endpoint"], websocket=False, path="/{value}")
    assert isinstance(info.value, AssertionError) and isinstance(info.value, TypeError)
    assert str(info.value).startswith(
        f"{source} parameter 'value' must be one of the supported types"
    )


def test_marker_both_in_annotated_and_default_is_refused() -> None:
    async def endpoint(websocket: WebSocket, q: Annotated[int, Query()] = Query(3)) -> None:
        pass

    with pytest.raises(ConfigurationError, match="both"):
        EndpointPlan.compile(endpoint, websocket=True)


def test_markers_repr_as_fastapi_and_param_reads_the_query() -> None:
    from tether.params import Param

    assert repr(Query("teststr")) == "Query(teststr)"
    assert repr(Header(...)) == "Header(PydanticUndefined)"
    assert repr(Body([])) == "Body([])"
    assert repr(Param(None)) == "Param(None)"
    marker = Param(None)
    assert isinstance(marker, QueryInfo) and marker.source == "query" and not marker.required


def test_marker_objects() -> None:
    info = Query(3, alias="x", ge=1)
    assert isinstance(info, QueryInfo) and not info.required and info.alias == "x"
    assert Query().required
    assert "Query" in repr(Query())
    with pytest.raises(ConfigurationError):
        Query(1, default_factory=list)
    with pytest.raises(ConfigurationError, match="scope"):
        Depends(lambda: 1, scope="message")
    assert Depends(lambda: 1, scope="request").scope == "connection"
    assert Security(lambda: 1, scopes=["a"]).scopes == ("a",)


def test_an_alias_choices_error_names_the_choice_found() -> None:
    from typing import Annotated

    from pydantic import AliasChoices

    from tether import Query, Tether
    from tether.testclient import TestClient

    app = Tether()

    @app.get("/")
    def read(
        value: Annotated[int, Query(validation_alias=AliasChoices("item_id", "id"), ge=1)],
    ) -> int:
        return value

    client = TestClient(app)
    assert client.get("/?id=3").json() == 3
    for name in ("item_id", "id"):
        detail = client.get(f"/?{name}=0").json()["detail"]
        assert [(error["type"], error["loc"]) for error in detail] == [
            ("greater_than_equal", ["query", name])
        ]
