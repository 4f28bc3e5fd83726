"""FastAPI's query/header/cookie parameter-model tutorials and tests, as the peer writes them
(imports renamed), plus the same models on a WebSocket route (a tether addition: the peer's
model parameters work on WebSockets too, and so do they here)."""

from typing import Annotated, Literal

import pytest
from pydantic import AliasChoices, BaseModel, Field

from tether import Cookie, Header, Query, WebSocket
from tether import Tether as FastAPI
from tether.testclient import TestClient, WebSocketDenialResponse

app = FastAPI()


class FilterParams(BaseModel):
    model_config = {"extra": "forbid"}

    limit: int = Field(100, gt=0, le=100)
    offset: int = Field(0, ge=0)
    order_by: Literal["created_at", "updated_at"] = "created_at"
    tags: list[str] = []


@app.get("/items/")
async def read_items(filter_query: Annotated[FilterParams, Query()]):
    return filter_query


class CommonHeaders(BaseModel):
    model_config = {"extra": "forbid"}

    host: str
    save_data: bool
    if_modified_since: str | None = None
    traceparent: str | None = None
    x_tag: list[str] = []


@app.get("/headers/")
async def read_headers(headers: Annotated[CommonHeaders, Header()]):
    return headers


class Cookies(BaseModel):
    session_id: str
    fatebook_tracker: str | None = None
    googall_tracker: str | None = None


@app.get("/cookies/")
async def read_cookies(cookies: Annotated[Cookies, Cookie()]):
    return cookies


class Search(BaseModel):
    text: str = Field(validation_alias=AliasChoices("q", "query"))
    page: int = 1


@app.websocket("/ws")
async def search_socket(websocket: WebSocket, search: Annotated[Search, Query()]):
    await websocket.accept()
    await websocket.send_json(search.model_dump())
    await websocket.close()


@pytest.fixture(name="client")
def get_client():
    client = TestClient(app)
    client.headers.clear()
    return client


def test_query_param_model(client: TestClient):
    response = client.get(
        "/items/",
        params={"limit": 10, "offset": 5, "order_by": "updated_at", "tags": ["tag1", "tag2"]},
    )
    assert response.status_code == 200
    assert response.json() == {
        "limit": 10,
        "offset": 5,
        "order_by": "updated_at",
        "tags": ["tag1", "tag2"],
    }


def test_query_param_model_defaults(client: TestClient):
    response = client.get("/items/")
    assert response.status_code == 200
    assert response.json() == {"limit": 100, "offset": 0, "order_by": "created_at", "tags": []}


def test_query_param_model_invalid(client: TestClient):
    response = client.get("/items/", params={"limit": 150, "offset": -1, "order_by": "invalid"})
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "less_than_equal",
                "loc": ["query", "limit"],
                "msg": "Input should be less than or equal to 100",
                "input": "150",
                "ctx": {"le": 100},
            },
            {
                "type": "greater_than_equal",
                "loc": ["query", "offset"],
                "msg": "Input should be greater than or equal to 0",
                "input": "-1",
                "ctx": {"ge": 0},
            },
            {
                "type": "literal_error",
                "loc": ["query", "order_by"],
                "msg": "Input should be 'created_at' or 'updated_at'",
                "input": "invalid",
                "ctx": {"expected": "'created_at' or 'updated_at'"},
            },
        ]
    }


def test_query_param_model_extra(client: TestClient):
    response = client.get(
        "/items/",
        params={"limit": 10, "offset": 5, "order_by": "updated_at", "tool": "plumbus"},
    )
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {
                "type": "extra_forbidden",
                "loc": ["query", "tool"],
                "msg": "Extra inputs are not permitted",
                "input": "plumbus",
            }
        ]
    }


def test_header_param_model(client: TestClient):
    response = client.get(
        "/headers/",
        headers=[
            ("save-data", "true"),
            ("if-modified-since", "yesterday"),
            ("traceparent", "123"),
            ("x-tag", "one"),
            ("x-tag", "two"),
        ],
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "host": "testserver",
        "save_data": True,
        "if_modified_since": "yesterday",
        "traceparent": "123",
        "x_tag": ["one", "two"],
    }


def test_header_param_model_invalid_and_extra(client: TestClient):
    response = client.get("/headers/")
    assert response.status_code == 422
    [error] = response.json()["detail"]
    # FastAPI 0.165's own test_header_param_models/test_tutorial001 names the header as sent.
    assert (error["type"], error["loc"]) == ("missing", ["header", "save-data"])
    response = client.get("/headers/", headers=[("save-data", "true"), ("tool", "plumbus")])
    assert response.status_code == 422, response.text
    assert response.json() == {
        "detail": [
            {
                "type": "extra_forbidden",
                "loc": ["header", "tool"],
                "msg": "Extra inputs are not permitted",
                "input": "plumbus",
            }
        ]
    }


def test_cookie_param_model(client: TestClient):
    client.cookies.update({"session_id": "123", "fatebook_tracker": "456"})
    response = client.get("/cookies/")
    assert response.status_code == 200
    assert response.json() == {
        "session_id": "123",
        "fatebook_tracker": "456",
        "googall_tracker": None,
    }
    client.cookies.clear()
    response = client.get("/cookies/")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["cookie", "session_id"]


def test_query_model_with_alias_choices_on_a_websocket(client: TestClient):
    for query in ("q=hello&page=2", "query=hello&page=2"):
        with client.websocket_connect(f"/ws?{query}") as websocket:
            assert websocket.receive_json() == {"text": "hello", "page": 2}
    with pytest.raises(WebSocketDenialResponse) as denied:
        with client.websocket_connect("/ws?page=x"):
            pass
    assert denied.value.status_code == 422
    assert {tuple(e["loc"]) for e in denied.value.json()["detail"]} == {
        ("query", "q"),
        ("query", "page"),
    }


def test_scalar_alias_and_validation_alias():
    from pydantic import AliasPath

    app = FastAPI()

    @app.get("/search")
    def search(
        text: Annotated[str, Query(validation_alias=AliasChoices("q", "query"))],
        second: Annotated[str | None, Query(validation_alias=AliasPath("tag", 1))] = None,
        page: Annotated[int, Query(alias="p")] = 1,
        token: Annotated[str | None, Header(validation_alias="x-api-token")] = None,
    ):
        return {"text": text, "second": second, "page": page, "token": token}

    @app.websocket("/ws")
    async def ws(
        websocket: WebSocket,
        text: Annotated[str, Query(validation_alias=AliasChoices("q", "query"))],
    ):
        await websocket.accept()
        await websocket.send_text(text)
        await websocket.close()

    client = TestClient(app)
    response = client.get("/search?query=a&tag=x&tag=y&p=3", headers={"X-API-Token": "t"})
    assert response.json() == {"text": "a", "second": "y", "page": 3, "token": "t"}
    assert client.get("/search?q=b").json()["text"] == "b"
    response = client.get("/search")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "q"]
    with client.websocket_connect("/ws?query=c") as websocket:
        assert websocket.receive_text() == "c"
