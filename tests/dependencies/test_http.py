"""Dependency injection on HTTP routes, through the real app and both test clients."""

from typing import Any

import pytest

from tether.applications import Tether
from tether.exception_handlers import request_validation_exception_handler
from tether.exceptions import ConfigurationError, RequestValidationError
from tether.params import Body, Depends, Query
from tether.requests import Request
from tether.responses import Response, StreamingResponse
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


def test_errors_give_loc_as_a_tuple_and_the_json_as_a_list() -> None:
    # FastAPI's handling_errors tutorial004 prints ``error["loc"]`` and expects a tuple.
    app = Tether()
    seen: list[Any] = []

    @app.exception_handler(RequestValidationError)
    async def handler(request: Request, exc: RequestValidationError) -> Response:
        seen.extend(error["loc"] for error in exc.errors())
        return await request_validation_exception_handler(request, exc)

    @app.get("/items/{item_id}")
    async def read(item_id: int) -> int:
        return item_id

    response = TestClient(app).get("/items/x")
    assert seen == [("path", "item_id")]
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "item_id"]


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


def test_parameters_a_query_string_cannot_carry_are_the_body() -> None:
    # FastAPI's rule, from its test_union_body_discriminator and friends: a union of models,
    # a list of dicts and a list of lists have no query form, so they are the JSON body.
    from typing import Annotated, Literal

    from pydantic import BaseModel, Field

    class Cat(BaseModel):
        kind: Literal["cat"]
        lives: int

    class Dog(BaseModel):
        kind: Literal["dog"]
        name: str

    app = Tether()

    @app.post("/pet")
    async def pet(item: Annotated[Cat | Dog, Field(discriminator="kind")]) -> dict[str, Any]:
        return {"type": type(item).__name__}

    @app.post("/rows")
    async def rows(rows: list[dict[str, int]]) -> int:
        return sum(sum(row.values()) for row in rows)

    @app.post("/grid")
    async def grid(grid: list[list[int]], scale: int = 1) -> int:
        return sum(map(sum, grid)) * scale

    @app.get("/tags")
    async def tags(tag: list[str] | None = None) -> list[str]:
        return tag or []

    client = TestClient(app)
    assert client.post("/pet", json={"kind": "dog", "name": "rex"}).json() == {"type": "Dog"}
    assert client.post("/pet", json={"kind": "cat", "lives": 9}).json() == {"type": "Cat"}
    assert client.post("/rows", json=[{"a": 1}, {"b": 2, "c": 3}]).json() == 6
    assert client.post("/grid?scale=2", json=[[1, 2], [3]]).json() == 12
    assert client.get("/tags?tag=a&tag=b").json() == ["a", "b"]  # scalars stay query values
    wrong = client.post("/pet", json={"kind": "cow"}).json()["detail"][0]
    assert wrong["loc"][0] == "body" and wrong["type"] == "union_tag_invalid"


def test_optional_parameter_model_and_header_error_names() -> None:
    # FastAPI's query/header/cookie_param_models tutorials: an optional model is its default
    # when none of its fields was sent (other parameters do not count), and a header model's
    # errors name the header as sent (save-data, not save_data).
    from typing import Annotated

    from pydantic import BaseModel

    from tether import Header

    class DateRange(BaseModel):
        start: int
        end: int

    class Headers(BaseModel):
        save_data: bool

    app = Tether()

    @app.get("/items")
    async def items(
        limit: int = 10, span: Annotated[DateRange | None, Query()] = None
    ) -> dict[str, Any]:
        return {"limit": limit, "span": span.model_dump() if span else None}

    @app.get("/headers")
    async def headers(headers: Annotated[Headers, Header()]) -> bool:
        return headers.save_data

    client = TestClient(app)
    assert client.get("/items?limit=5").json() == {"limit": 5, "span": None}
    assert client.get("/items?start=1&end=2").json() == {
        "limit": 10,
        "span": {"start": 1, "end": 2},
    }
    half = client.get("/items?start=1")
    assert [error["loc"] for error in half.json()["detail"]] == [["query", "end"]]
    assert client.get("/headers", headers={"save-data": "yes"}).json() is True
    missing = client.get("/headers").json()["detail"]
    assert [error["loc"] for error in missing] == [["header", "save-data"]]


def test_a_form_field_is_read_by_its_validation_alias() -> None:
    from typing import Annotated

    from tether import Form

    app = Tether()

    @app.post("/form")
    async def form(p: Annotated[str, Form(validation_alias="p_val")]) -> str:
        return p

    client = TestClient(app)
    assert client.post("/form", data={"p_val": "hello"}).json() == "hello"
    missing = client.post("/form", data={"p": "hello"}).json()["detail"]
    assert [error["loc"] for error in missing] == [["body", "p_val"]]


def test_pydantic_field_options_on_markers() -> None:
    # FastAPI's markers take pydantic's Field options and pass them on: discriminator,
    # multiple_of, strict, validate_default, ...
    from typing import Annotated, Literal

    from pydantic import BaseModel

    class Cat(BaseModel):
        kind: Literal["cat"]

    class Dog(BaseModel):
        kind: Literal["dog"]

    app = Tether()

    @app.post("/pet")
    async def pet(item: Annotated[Cat | Dog, Body(discriminator="kind")]) -> str:
        return type(item).__name__

    @app.get("/step")
    async def step(n: Annotated[int, Query(multiple_of=5, le=100)]) -> int:
        return n

    @app.get("/checked")
    async def checked(n: Annotated[int, Query(validate_default=True, ge=1)] = 0) -> int:
        return n

    client = TestClient(app)
    assert client.post("/pet", json={"kind": "dog"}).json() == "Dog"
    wrong = client.post("/pet", json={"kind": "cow"}).json()["detail"][0]
    assert (wrong["loc"], wrong["type"]) == (["body"], "union_tag_invalid")
    assert client.get("/step?n=15").json() == 15
    assert client.get("/step?n=7").json()["detail"][0]["type"] == "multiple_of"
    assert client.get("/step?n=105").json()["detail"][0]["type"] == "less_than_equal"
    assert client.get("/checked").json()["detail"][0]["type"] == "greater_than_equal"


def test_declared_scopes_split_the_dependency_cache() -> None:
    # FastAPI's test_dependency_cache: Security(dep) and Security(dep, scopes=[...]) are two
    # cache entries even when dep reads no scopes; the same scopes share one.
    from tether import Security

    calls = {"n": 0}

    async def counter() -> int:
        calls["n"] += 1
        return calls["n"]

    app = Tether()

    @app.get("/scoped")
    async def scoped(
        plain: int = Security(counter),
        one: int = Security(counter, scopes=["scope"]),
        two: int = Security(counter, scopes=["scope"]),
    ) -> list[int]:
        return [plain, one, two]

    assert TestClient(app).get("/scoped").json() == [1, 2, 2]


def test_a_yield_dependency_that_keeps_the_endpoint_error_fails_the_request() -> None:
    # The cleanup runs after the response would be sent (connection scope): the dependency
    # catching the error leaves nothing to send, which is a 500, never an empty answer.
    cleaned: list[str] = []

    def keeps_errors() -> Any:
        try:
            yield "user"
        except LookupError:
            cleaned.append("kept")

    app = Tether()

    @app.get("/fails")
    def fails(user: str = Depends(keeps_errors)) -> str:
        raise LookupError(user)

    with pytest.raises(ConfigurationError, match="a dependency with yield catching it"):
        TestClient(app).get("/fails")
    response = TestClient(app, raise_server_exceptions=False).get("/fails")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert cleaned == ["kept", "kept"]


def test_a_header_model_with_loc_by_alias_off_names_its_fields() -> None:
    from typing import Annotated

    from pydantic import BaseModel, ConfigDict, Field

    from tether import Header

    class Named(BaseModel):
        model_config = ConfigDict(loc_by_alias=False)
        save_data: bool
        item_count: Annotated[int, Field(alias="x_count")]

    app = Tether()

    @app.get("/")
    async def read(headers: Annotated[Named, Header()]) -> int:
        return headers.item_count

    client = TestClient(app)
    assert client.get("/", headers={"save-data": "1", "x_count": "2"}).json() == 2
    missing = client.get("/").json()["detail"]
    assert [error["loc"] for error in missing] == [
        ["header", "save_data"],
        ["header", "item_count"],
    ]


def test_a_function_scoped_and_a_connection_scoped_use_are_two_values() -> None:
    class Session:
        open = True

    def session() -> Any:
        value = Session()
        yield value
        value.open = False

    app = Tether()

    @app.get("/")
    def read(
        early: Session = Depends(session, scope="function"),
        late: Session = Depends(session),
    ) -> Any:
        def body() -> Any:
            yield f"{early.open} {late.open} {early is late}"

        return StreamingResponse(body())

    assert TestClient(app).get("/").text == "False True False"
