"""Response models with FastAPI's semantics (tether.applications.responses, APIRoute).

The cases follow FastAPI's documentation and tests for ``response_model`` (return annotation,
filtering, ``response_model_exclude_unset``, include/exclude, invalid values): the same app
code, only the imports changed, must answer the same.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
import pytest
from pydantic import BaseModel, Field

from tether import Router, Tether
from tether.exceptions import ConfigurationError, ResponseValidationError
from tether.responses import JSONResponse, PlainTextResponse, Response
from tether.testclient import TestClient


class UserIn(BaseModel):
    username: str
    password: str
    email: str


class UserOut(BaseModel):
    username: str
    email: str


class Item(BaseModel):
    name: str
    description: str | None = None
    price: float
    tax: float = 10.5
    tags: list[str] = []


def test_return_annotation_filters_a_dict_no_leak() -> None:
    app = Tether()

    @app.get("/me")
    async def read_me() -> UserOut:
        return {"username": "ann", "email": "a@example.com", "password": "secret"}  # type: ignore[return-value]

    response = TestClient(app).get("/me")
    assert response.status_code == 200
    assert response.json() == {"username": "ann", "email": "a@example.com"}
    assert response.headers["content-type"] == "application/json"


def test_response_model_filters_another_model() -> None:
    app = Tether()

    @app.post("/user/", response_model=UserOut)
    async def create_user(user: UserIn) -> Any:
        return user

    body = {"username": "foo", "password": "pw", "email": "foo@example.com"}
    assert TestClient(app).post("/user/", json=body).json() == {
        "username": "foo",
        "email": "foo@example.com",
    }


class UserInDB(UserOut):
    hashed_password: str


def test_subclass_instance_is_serialised_as_the_declared_model() -> None:
    app = Tether()

    @app.get("/u")
    async def read() -> UserOut:
        return UserInDB(username="x", email="x@example.com", hashed_password="h")

    assert TestClient(app).get("/u").json() == {"username": "x", "email": "x@example.com"}


def test_objects_and_dataclasses_are_read_by_attribute() -> None:
    @dataclasses.dataclass
    class Row:
        username: str
        email: str
        password: str

    app = Tether()

    @app.get("/rows", response_model=list[UserOut])
    async def rows() -> Any:
        return [Row("a", "a@x", "p1"), Row("b", "b@x", "p2")]

    assert TestClient(app).get("/rows").json() == [
        {"username": "a", "email": "a@x"},
        {"username": "b", "email": "b@x"},
    ]


def test_invalid_value_is_a_500_and_is_never_sent() -> None:
    app = Tether()

    @app.get("/bad")
    async def bad() -> Item:
        return {"name": "x", "price": "not a number", "secret": "s3cr3t"}  # type: ignore[return-value]

    with pytest.raises(ResponseValidationError) as raised:
        TestClient(app).get("/bad")
    errors = raised.value.errors()
    assert errors[0]["loc"] == ("response", "price")
    assert errors[0]["type"] == "float_parsing"
    assert "1 validation error" in str(raised.value)

    response = TestClient(app, raise_server_exceptions=False).get("/bad")
    assert response.status_code == 500
    assert "s3cr3t" not in response.text


def test_response_model_none_and_response_passthrough() -> None:
    app = Tether()

    @app.get("/raw", response_model=None)
    async def raw() -> UserOut:
        return {"anything": 1}  # type: ignore[return-value]

    @app.get("/direct")
    async def direct() -> UserOut:
        return JSONResponse({"kept": True}, status_code=202)  # type: ignore[return-value]

    @app.get("/text")
    async def text() -> PlainTextResponse:
        return PlainTextResponse("hello")

    @app.get("/either", response_model=None)
    async def either() -> Response | dict[str, str]:
        return {"ok": "yes"}

    client = TestClient(app)
    assert client.get("/raw").json() == {"anything": 1}
    direct_response = client.get("/direct")
    assert (direct_response.status_code, direct_response.json()) == (202, {"kept": True})
    assert client.get("/text").text == "hello"
    assert client.get("/either").json() == {"ok": "yes"}


def test_exclude_unset_defaults_none_include_exclude() -> None:
    items = {
        "foo": {"name": "Foo", "price": 50.2},
        "bar": {"name": "Bar", "description": "The bartenders", "price": 62, "tax": 20.2},
        "baz": {"name": "Baz", "description": None, "price": 50.2, "tax": 10.5, "tags": []},
    }
    app = Tether()

    @app.get("/unset/{key}", response_model=Item, response_model_exclude_unset=True)
    async def unset(key: str) -> Any:
        return items[key]

    @app.get("/defaults/{key}", response_model=Item, response_model_exclude_defaults=True)
    async def defaults(key: str) -> Any:
        return items[key]

    @app.get("/none/{key}", response_model=Item, response_model_exclude_none=True)
    async def none(key: str) -> Any:
        return items[key]

    @app.get("/name/{key}", response_model=Item, response_model_include={"name", "description"})
    async def name(key: str) -> Any:
        return items[key]

    @app.get("/public/{key}", response_model=Item, response_model_exclude=["tax"])
    async def public(key: str) -> Any:
        return items[key]

    client = TestClient(app)
    assert client.get("/unset/foo").json() == {"name": "Foo", "price": 50.2}
    assert client.get("/unset/baz").json() == items["baz"]
    assert client.get("/defaults/baz").json() == {"name": "Baz", "price": 50.2}
    assert client.get("/none/foo").json() == {"name": "Foo", "price": 50.2, "tax": 10.5, "tags": []}
    assert client.get("/name/bar").json() == {"name": "Bar", "description": "The bartenders"}
    assert client.get("/public/bar").json() == {
        "name": "Bar",
        "description": "The bartenders",
        "price": 62.0,
        "tags": [],
    }


class Aliased(BaseModel):
    item_name: str = Field(alias="itemName")


def test_aliases_status_code_and_other_response_classes() -> None:
    app = Tether()

    @app.post("/a", status_code=201)
    async def by_alias() -> Aliased:
        return Aliased(itemName="x")

    @app.get("/b", response_model_by_alias=False)
    async def by_name() -> Aliased:
        return Aliased(itemName="x")

    @app.get("/c", response_class=PlainTextResponse)
    async def text() -> int:
        return 42

    client = TestClient(app)
    created = client.post("/a")
    assert (created.status_code, created.json()) == (201, {"itemName": "x"})
    assert client.get("/b").json() == {"item_name": "x"}
    assert client.get("/c").text == "42"


def test_router_options_are_kept_through_include_router() -> None:
    router = Router()

    @router.get("/x", response_model=UserOut, response_model_exclude={"email"})
    async def x() -> Any:
        return {"username": "u", "email": "e", "password": "p"}

    app = Tether()
    app.include_router(router, prefix="/p")
    assert TestClient(app).get("/p/x").json() == {"username": "u"}


class Point(msgspec.Struct):
    x: int
    y: int


def test_msgspec_struct_response_model() -> None:
    app = Tether()

    @app.get("/point")
    async def point() -> Point:
        return {"x": 1, "y": 2, "z": 3}  # type: ignore[return-value]

    @app.get("/bad")
    async def bad() -> Point:
        return {"x": "no"}  # type: ignore[return-value]

    client = TestClient(app)
    assert client.get("/point").json() == {"x": 1, "y": 2}
    with pytest.raises(ResponseValidationError):
        client.get("/bad")


class Opaque:
    pass


def test_a_type_that_cannot_be_a_model_is_refused_at_registration() -> None:
    app = Tether()

    with pytest.raises(ConfigurationError, match="response_model=None"):

        @app.get("/x")
        async def x() -> Opaque:
            return Opaque()

    class Local(BaseModel):
        a: int

    with pytest.raises(ConfigurationError, match="cannot resolve the return annotation"):

        @app.get("/y")
        async def y() -> Local:
            return Local(a=1)


def test_sync_endpoints_are_filtered_too() -> None:
    app = Tether()

    @app.get("/c")
    def contact() -> UserOut:
        return {"username": "s", "email": "s@x", "password": "p"}  # type: ignore[return-value]

    assert TestClient(app).get("/c").json() == {"username": "s", "email": "s@x"}


def test_no_body_status_sends_no_body() -> None:
    app = Tether()

    @app.delete("/items/{key}", status_code=204)
    async def delete(key: str) -> None:
        return None

    response = TestClient(app).delete("/items/a")
    assert response.status_code == 204
    assert response.content == b""
