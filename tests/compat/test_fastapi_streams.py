"""FastAPI's streaming tests (tests/test_stream_bare_type.py, test_stream_json_validation_error.py,
test_stream_status_code.py, test_stream_cancellation.py), written as the peer writes them.

Only the imports differ from the peer.
"""

import asyncio
import json
from collections.abc import AsyncIterable, Iterable
from typing import AsyncIterable as BareAsyncIterable  # noqa: UP035 - the bare form is the case
from typing import Iterable as BareIterable  # noqa: UP035

import pytest
from pydantic import BaseModel

from tether import Depends, Response
from tether import Router as APIRouter
from tether import Tether as FastAPI
from tether.exceptions import ResponseValidationError
from tether.responses import EventSourceResponse, StreamingResponse
from tether.testclient import TestClient


class Item(BaseModel):
    name: str
    optional: str | None = None


# --- bare iterable annotations and response_model_exclude_none --------------------------------

bare_app = FastAPI()


@bare_app.get("/items/stream-bare-async")
async def stream_bare_async() -> BareAsyncIterable:
    yield {"name": "foo"}


@bare_app.get("/items/stream-bare-sync")
def stream_bare_sync() -> BareIterable:
    yield {"name": "bar"}


router = APIRouter()


@router.get("/events-jsonl", response_model_exclude_none=True)
async def stream_events_jsonl() -> AsyncIterable[Item]:
    yield Item(name="foo")


bare_app.include_router(router, prefix="/api")
bare_client = TestClient(bare_app)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/items/stream-bare-async", [{"name": "foo"}]),
        ("/items/stream-bare-sync", [{"name": "bar"}]),
        ("/api/events-jsonl", [{"name": "foo"}]),
    ],
)
def test_json_lines(path: str, expected: list[dict[str, str]]) -> None:
    response = bare_client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/jsonl"
    assert [json.loads(line) for line in response.text.strip().splitlines()] == expected


def test_jsonl_router_typed_openapi_schema() -> None:
    paths = bare_client.get("/openapi.json").json()["paths"]
    assert paths["/api/events-jsonl"]["get"]["responses"]["200"] == {
        "description": "Successful Response",
        "content": {"application/jsonl": {"itemSchema": {"$ref": "#/components/schemas/Item"}}},
    }


# --- a streamed value that does not validate ---------------------------------------------------


class Priced(BaseModel):
    name: str
    price: float


invalid_app = FastAPI()


@invalid_app.get("/items/stream-invalid")
async def stream_items_invalid() -> AsyncIterable[Priced]:
    yield {"name": "valid", "price": 1.0}
    yield {"name": "invalid", "price": "not-a-number"}


@invalid_app.get("/items/stream-invalid-sync")
def stream_items_invalid_sync() -> Iterable[Priced]:
    yield {"name": "valid", "price": 1.0}
    yield {"name": "invalid", "price": "not-a-number"}


@pytest.mark.parametrize("path", ["/items/stream-invalid", "/items/stream-invalid-sync"])
def test_stream_json_validation_error(path: str) -> None:
    with pytest.raises(ResponseValidationError):
        TestClient(invalid_app).get(path)


# --- status codes ----------------------------------------------------------------------------

status_app = FastAPI()


def set_accepted(response: Response) -> None:
    response.status_code = 202


@status_app.post("/sse", response_class=EventSourceResponse, status_code=201)
async def sse() -> AsyncIterable[dict[str, str]]:
    yield {"message": "created"}


@status_app.post("/jsonl", status_code=201)
async def jsonl() -> AsyncIterable[dict[str, str]]:
    yield {"message": "created"}


@status_app.post("/raw", response_class=StreamingResponse, status_code=201)
async def raw() -> AsyncIterable[str]:
    yield "accepted"


@status_app.post("/sse-dependency", response_class=EventSourceResponse)
async def sse_dependency(accepted: None = Depends(set_accepted)) -> AsyncIterable[dict[str, str]]:
    yield {"message": "accepted"}


@status_app.post("/jsonl-dependency")
async def jsonl_dependency(accepted: None = Depends(set_accepted)) -> AsyncIterable[dict[str, str]]:
    yield {"message": "accepted"}


@status_app.post("/sse-dependency-override", response_class=EventSourceResponse, status_code=201)
async def sse_dependency_override(
    accepted: None = Depends(set_accepted),
) -> AsyncIterable[dict[str, str]]:
    yield {"message": "overridden"}


@pytest.mark.parametrize(
    ("path", "expected_status_code"),
    [
        ("/sse", 201),
        ("/jsonl", 201),
        ("/raw", 201),
        ("/sse-dependency", 202),
        ("/jsonl-dependency", 202),
        ("/sse-dependency-override", 202),
    ],
)
def test_status_code(path: str, expected_status_code: int) -> None:
    assert TestClient(status_app).post(path).status_code == expected_status_code


def test_openapi_item_title_of_a_plain_type() -> None:
    operation = status_app.openapi()["paths"]["/sse"]["post"]
    schema = operation["responses"]["201"]["content"]["text/event-stream"]["itemSchema"]
    assert schema["properties"]["data"]["contentSchema"] == {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "title": "Streamitem Sse Sse Post",
    }


# --- an endless generator without awaits can still be cancelled --------------------------------

cancel_app = FastAPI()


@cancel_app.get("/stream-raw", response_class=StreamingResponse)
async def stream_raw() -> AsyncIterable[str]:
    i = 0
    while True:
        yield f"item {i}\n"
        i += 1


@cancel_app.get("/stream-jsonl")
async def stream_jsonl() -> AsyncIterable[int]:
    i = 0
    while True:
        yield i
        i += 1


@pytest.mark.parametrize("path", ["/stream-raw", "/stream-jsonl"])
async def test_stream_cancellation(path: str) -> None:
    chunks: list[bytes] = []

    async def receive() -> dict[str, str]:
        await asyncio.Event().wait()  # a client that never leaves: only cancellation ends it
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))  # type: ignore[arg-type]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.0"},
        "http_version": "1.1",
        "method": "GET",
        "path": path,
        "query_string": b"",
        "root_path": "",
        "headers": [],
        "server": ("test", 80),
    }
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(cancel_app(scope, receive, send), 1.0)
    assert chunks
