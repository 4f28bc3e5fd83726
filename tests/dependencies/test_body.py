"""JSON request bodies: which Content-Type makes a body JSON, and plain dict/list bodies."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, condecimal

from tether import Body, Tether
from tether.dependencies.body import is_json_content_type
from tether.testclient import TestClient


class Item(BaseModel):
    name: str


class Priced(BaseModel):
    name: str
    price: condecimal(gt=Decimal(0))  # type: ignore[valid-type]


class User(BaseModel):
    username: str


@pytest.mark.parametrize(
    ("content_type", "strict", "expected"),
    [
        ("application/json", True, True),
        ("Application/JSON; charset=utf-8", True, True),
        ("application/vnd.api+json", True, True),
        (None, True, False),
        ("", True, False),
        (None, False, True),
        ("text/plain", False, False),
        ("application/x-www-form-urlencoded", False, False),
        ("application/jsonx", True, False),
        ("text/json", True, False),
    ],
)
def test_is_json_content_type(content_type: str | None, strict: bool, expected: bool) -> None:
    assert is_json_content_type(content_type, strict) is expected


def _client(**app_options: Any) -> TestClient:
    app = Tether(**app_options)

    @app.post("/item")
    async def item(item: Item) -> dict[str, Any]:
        return item.model_dump()

    @app.post("/data")
    async def data(data: dict) -> dict[str, Any]:  # type: ignore[type-arg]
        return data

    return TestClient(app)


def test_a_body_without_json_content_type_is_refused_by_default() -> None:
    # FastAPI's strict_content_type (default True): a cross-site form or text/plain request
    # cannot pass for JSON; the body stays bytes, which the declared type refuses.
    client = _client()
    raw = '{"name": "x"}'
    assert client.post("/item", json={"name": "x"}).json() == {"name": "x"}
    assert client.post("/item", content=raw).status_code == 422
    refused = client.post("/data", content=raw, headers={"content-type": "text/plain"})
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["type"] == "dict_type"
    plus_json = client.post("/data", content=raw, headers={"content-type": "application/ld+json"})
    assert plus_json.json() == {"name": "x"}


def test_lax_app_reads_a_body_without_content_type() -> None:
    client = _client(strict_content_type=False)
    assert client.post("/item", content='{"name": "x"}').json() == {"name": "x"}
    text = client.post("/item", content='{"name": "x"}', headers={"content-type": "text/plain"})
    assert text.status_code == 422  # a content type that is not JSON never is


def test_a_dict_or_list_body_must_be_one() -> None:
    app = Tether()

    @app.post("/data")
    async def data(data: dict) -> Any:  # type: ignore[type-arg]
        return data

    @app.post("/rows")
    async def rows(rows: list = Body()) -> Any:  # type: ignore[type-arg]
        return rows

    client = TestClient(app)
    wrong = client.post("/data", json=[1, 2]).json()["detail"]
    assert wrong == [
        {
            "type": "dict_type",
            "loc": ["body"],
            "msg": "Input should be a valid dictionary",
            "input": [1, 2],
        }
    ]
    assert client.post("/rows", json={"a": 1}).json()["detail"][0]["type"] == "list_type"
    assert client.post("/rows", json=[1, "a"]).json() == [1, "a"]


def test_body_errors_in_fastapis_shape() -> None:
    # FastAPI's test_multi_body_errors, test_body_multiple_params and test_body_nested_models
    # compare these records whole: the input is the value where the problem is, each
    # embedded field missing from an absent body is named, Body() bounds apply, and a
    # Decimal bound is a number.
    app = Tether()

    @app.post("/priced")
    async def priced(items: list[Priced]) -> int:
        return len(items)

    @app.put("/both")
    async def both(item: Priced, user: User, importance: int = Body(gt=0)) -> int:
        return importance

    client = TestClient(app)
    wrong = client.post("/priced", json=[{"name": "a", "price": 1}, {"price": -1}]).json()
    assert wrong["detail"] == [
        {
            "type": "missing",
            "loc": ["body", 1, "name"],
            "msg": "Field required",
            "input": {"price": -1},
        },
        {
            "type": "greater_than",
            "loc": ["body", 1, "price"],
            "msg": "Input should be greater than 0",
            "input": -1,
            "ctx": {"gt": 0},
        },
    ]
    absent = client.put("/both").json()["detail"]
    assert [(e["loc"], e["input"]) for e in absent] == [
        (["body", "item"], None),
        (["body", "user"], None),
        (["body", "importance"], None),
    ]
    body = {"item": {"name": "a", "price": 1}, "user": {"username": "u"}, "importance": 0}
    refused = client.put("/both", json=body).json()["detail"]
    assert refused == [
        {
            "type": "greater_than",
            "loc": ["body", "importance"],
            "msg": "Input should be greater than 0",
            "input": 0,
            "ctx": {"gt": 0},
        }
    ]
    assert client.put("/both", json={**body, "importance": 2}).json() == 2


def test_request_validation_error_carries_the_body() -> None:
    # FastAPI's handling_errors tutorial005 answers {"detail": ..., "body": exc.body}.
    from tether.exceptions import RequestValidationError
    from tether.requests import Request
    from tether.responses import JSONResponse

    app = Tether()

    @app.exception_handler(RequestValidationError)
    async def handler(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"body": exc.body}, status_code=422)

    @app.post("/item")
    async def item(item: Item) -> Any:
        return item

    @app.get("/n")
    async def n(n: int) -> int:
        return n

    client = TestClient(app)
    assert client.post("/item", json={"title": "x"}).json() == {"body": {"title": "x"}}
    assert client.get("/n?n=x").json() == {"body": None}


def test_an_explicit_null_body_is_no_object_for_embedded_fields() -> None:
    app = Tether()

    @app.post("/")
    def read(value: int | None = Body(10), other: int | None = Body(20)) -> list[Any]:
        return [value, other]

    client = TestClient(app)
    response = client.post("/", content="null", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"type": "missing", "loc": ["body", "value"], "msg": "Field required", "input": None},
        {"type": "missing", "loc": ["body", "other"], "msg": "Field required", "input": None},
    ]
    assert client.post("/").json() == [10, 20]  # no body at all: the defaults
    assert client.post("/", json={}).json() == [10, 20]
    assert client.post("/", json={"value": None, "other": None}).json() == [None, None]


@pytest.mark.parametrize("embed", [False, True])
def test_a_body_default_is_validated_when_asked(embed: bool) -> None:
    app = Tether()
    calls: list[int] = []

    def factory() -> str:
        calls.append(1)
        return "10"

    def read(value: Any) -> Any:
        return value

    # Built here (this module's annotations are strings) so the marker can use the closure.
    marker = Body(embed=embed, default_factory=factory, validate_default=True)
    read.__annotations__["value"] = Annotated[int | None, marker]
    app.post("/")(read)

    client = TestClient(app)
    null = '{"value": null}' if embed else "null"
    headers = {"content-type": "application/json"}
    assert client.post("/", content=null, headers=headers).json() is None
    assert calls == []
    assert client.post("/", content="{}" if embed else "", headers=headers).json() == 10
    assert calls == [1]
