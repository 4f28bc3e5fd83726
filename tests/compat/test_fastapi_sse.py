"""FastAPI's published SSE behaviour (its tests/test_sse.py) checked against tether.

The apps and assertions follow the peer's test module case by case; only the imports name
tether (``fastapi.routing`` -> ``tether.routing`` for the patched ping interval).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, Iterable

import pytest
from pydantic import BaseModel

import tether.routing
from tether import Router as APIRouter
from tether import Tether as FastAPI
from tether.responses import EventSourceResponse
from tether.sse import ServerSentEvent, format_sse_event
from tether.testclient import TestClient


class Item(BaseModel):
    name: str
    description: str | None = None


items = [
    Item(name="Plumbus", description="A multi-purpose household device."),
    Item(name="Portal Gun", description="A portal opening device."),
    Item(name="Meeseeks Box", description="A box that summons a Meeseeks."),
]

app = FastAPI()


@app.get("/items/stream", response_class=EventSourceResponse)
async def sse_items() -> AsyncIterable[Item]:
    for item in items:
        yield item


@app.get("/items/stream-sync", response_class=EventSourceResponse)
def sse_items_sync() -> Iterable[Item]:
    yield from items


@app.get("/items/stream-no-annotation", response_class=EventSourceResponse)
async def sse_items_no_annotation():  # type: ignore[no-untyped-def]
    for item in items:
        yield item


@app.get("/items/stream-sync-no-annotation", response_class=EventSourceResponse)
def sse_items_sync_no_annotation():  # type: ignore[no-untyped-def]
    yield from items


@app.get("/items/stream-dict", response_class=EventSourceResponse)
async def sse_items_dict():  # type: ignore[no-untyped-def]
    for item in items:
        yield {"name": item.name, "description": item.description}


@app.get("/items/stream-sse-event", response_class=EventSourceResponse)
async def sse_items_event():  # type: ignore[no-untyped-def]
    yield ServerSentEvent(data="hello", event="greeting", id="1")
    yield ServerSentEvent(data={"key": "value"}, event="json-data", id="2")
    yield ServerSentEvent(comment="just a comment")
    yield ServerSentEvent(data="retry-test", retry=5000)


@app.get("/items/stream-mixed", response_class=EventSourceResponse)
async def sse_items_mixed() -> AsyncIterable[Item]:
    for item in items:
        yield item
    yield ServerSentEvent(data="custom-event", event="special")  # type: ignore[misc]
    yield items[1]


@app.get("/items/stream-string", response_class=EventSourceResponse)
async def sse_items_string():  # type: ignore[no-untyped-def]
    yield ServerSentEvent(data="plain text data")


@app.post("/items/stream-post", response_class=EventSourceResponse)
async def sse_items_post() -> AsyncIterable[Item]:
    for item in items:
        yield item


@app.get("/items/stream-raw", response_class=EventSourceResponse)
async def sse_items_raw():  # type: ignore[no-untyped-def]
    yield ServerSentEvent(raw_data="plain text without quotes")
    yield ServerSentEvent(raw_data="<div>html fragment</div>", event="html")
    yield ServerSentEvent(raw_data="cpu,87.3,1709145600", event="csv")


router = APIRouter()


@router.get("/events", response_class=EventSourceResponse)
async def stream_events():  # type: ignore[no-untyped-def]
    yield {"msg": "hello"}
    yield {"msg": "world"}


@router.get("/events-typed", response_class=EventSourceResponse)
async def stream_events_typed() -> AsyncIterable[Item]:
    for item in items:
        yield item


app.include_router(router, prefix="/api")


@pytest.fixture(name="client")
def client_fixture():  # type: ignore[no-untyped-def]
    with TestClient(app) as c:
        yield c


def data_lines(text: str) -> list[str]:
    return [line for line in text.strip().split("\n") if line.startswith("data: ")]


def test_async_generator_with_model(client: TestClient) -> None:
    response = client.get("/items/stream")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-accel-buffering"] == "no"
    lines = data_lines(response.text)
    assert len(lines) == 3
    for line, item in zip(lines, items, strict=True):
        assert f'"name":"{item.name}"' in line or f'"name": "{item.name}"' in line


@pytest.mark.parametrize(
    "path",
    [
        "/items/stream-sync",
        "/items/stream-no-annotation",
        "/items/stream-sync-no-annotation",
        "/items/stream-dict",
    ],
)
def test_every_endpoint_kind_streams_three_events(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    lines = data_lines(response.text)
    assert len(lines) == 3
    assert '"name"' in lines[0]


def test_post_method_sse(client: TestClient) -> None:
    response = client.post("/items/stream-post")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert len(data_lines(response.text)) == 3


def test_sse_events_with_fields(client: TestClient) -> None:
    text = client.get("/items/stream-sse-event").text
    for expected in (
        "event: greeting\n",
        'data: "hello"\n',
        "id: 1\n",
        "event: json-data\n",
        "id: 2\n",
        'data: {"key": "value"}\n',
        ": just a comment\n",
        "retry: 5000\n",
        'data: "retry-test"\n',
    ):
        assert expected in text


def test_mixed_plain_and_sse_events(client: TestClient) -> None:
    text = client.get("/items/stream-mixed").text
    assert "event: special\n" in text
    assert 'data: "custom-event"\n' in text
    assert '"name"' in text


def test_string_data_json_encoded(client: TestClient) -> None:
    assert 'data: "plain text data"\n' in client.get("/items/stream-string").text


def test_server_sent_event_null_id_rejected() -> None:
    with pytest.raises(ValueError, match="null"):
        ServerSentEvent(data="test", id="has\0null")


@pytest.mark.parametrize("field_name", ["event", "id"])
@pytest.mark.parametrize("value", ["first\nsecond", "first\rsecond", "first\r\nsecond"])
def test_single_line_fields_reject_newlines(field_name: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"SSE '{field_name}' must be a single line"):
        ServerSentEvent(data="test", **{field_name: value})  # type: ignore[arg-type]


@pytest.mark.parametrize("retry", [-1, 1.5, True])
def test_bad_retry_rejected(retry: object) -> None:
    with pytest.raises(ValueError):
        ServerSentEvent(data="test", retry=retry)  # type: ignore[arg-type]


def test_raw_data_sent_without_json_encoding(client: TestClient) -> None:
    text = client.get("/items/stream-raw").text
    assert "data: plain text without quotes\n" in text
    assert 'data: "plain text without quotes"' not in text
    assert "event: html\n" in text
    assert "data: <div>html fragment</div>\n" in text
    assert "event: csv\n" in text
    assert "data: cpu,87.3,1709145600\n" in text


def test_data_and_raw_data_mutually_exclusive() -> None:
    with pytest.raises(ValueError, match="Cannot set both"):
        ServerSentEvent(data="json", raw_data="raw")


@pytest.mark.parametrize(("path", "count"), [("/api/events", 2), ("/api/events-typed", 3)])
def test_sse_on_router_included_in_app(client: TestClient, path: str, count: int) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert len(data_lines(response.text)) == count


keepalive_app = FastAPI()


@keepalive_app.get("/slow-async", response_class=EventSourceResponse)
async def slow_async_stream():  # type: ignore[no-untyped-def]
    yield {"n": 1}
    await asyncio.sleep(0.3)  # the endpoint's own pace: longer than the patched ping interval
    yield {"n": 2}


@keepalive_app.get("/slow-sync", response_class=EventSourceResponse)
def slow_sync_stream():  # type: ignore[no-untyped-def]
    yield {"n": 1}
    time.sleep(0.3)
    yield {"n": 2}


@pytest.mark.parametrize("path", ["/slow-async", "/slow-sync"])
def test_keepalive_ping(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    monkeypatch.setattr(tether.routing, "_PING_INTERVAL", 0.05)
    with TestClient(keepalive_app) as c:
        response = c.get(path)
    assert response.status_code == 200
    assert ": ping\n" in response.text
    assert len([x for x in response.text.split("\n") if x.startswith("data: ")]) == 2


def test_no_keepalive_when_fast(client: TestClient) -> None:
    assert ": ping\n" not in client.get("/items/stream").text


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("Hello\n", b"data: Hello\ndata: \n\n"),
        ("Hello\n\n", b"data: Hello\ndata: \ndata: \n\n"),
        ("\n", b"data: \ndata: \n\n"),
        ("Hello\r\nWorld", b"data: Hello\ndata: World\n\n"),
        ("Hello\rWorld", b"data: Hello\ndata: World\n\n"),
        ("A\u2028B", "data: A\u2028B\n\n".encode()),
        ("A\vB", b"data: A\x0bB\n\n"),
        ("", b"data: \n\n"),
    ],
)
def test_format_splits_data_on_event_stream_line_ends_only(data: str, expected: bytes) -> None:
    assert format_sse_event(data_str=data) == expected


def test_format_splits_comment_lines() -> None:
    assert format_sse_event(comment="hi\n") == b": hi\n: \n\n"


default_app_app = FastAPI(default_response_class=EventSourceResponse)
default_app_router = APIRouter()


@default_app_router.get("/stream")
async def default_app_stream() -> AsyncIterable[Item]:
    for item in items:
        yield item


default_app_app.include_router(default_app_router, prefix="/api")

default_parent_app = FastAPI()
parent_router = APIRouter(default_response_class=EventSourceResponse)
child_router = APIRouter()


@child_router.get("/stream")
async def default_parent_stream() -> AsyncIterable[Item]:
    for item in items:
        yield item


parent_router.include_router(child_router)
default_parent_app.include_router(parent_router, prefix="/api")


@pytest.mark.parametrize("application", [default_app_app, default_parent_app])
def test_default_response_class_streams_events(application: FastAPI) -> None:
    with TestClient(application) as client:
        response = client.get("/api/stream")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert len(data_lines(response.text)) == 3


sse_schema_response = {
    "description": "Successful Response",
    "content": {
        "text/event-stream": {
            "itemSchema": {
                "type": "object",
                "properties": {
                    "data": {
                        "type": "string",
                        "contentMediaType": "application/json",
                        "contentSchema": {"$ref": "#/components/schemas/Item"},
                    },
                    "event": {"type": "string"},
                    "id": {"type": "string"},
                    "retry": {"type": "integer", "minimum": 0},
                },
                "required": ["data"],
            }
        }
    },
}


def test_sse_router_typed_openapi_schema(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert paths["/api/events-typed"]["get"]["responses"]["200"] == sse_schema_response


@pytest.mark.parametrize("application", [default_app_app, default_parent_app])
def test_default_response_class_openapi_schema(application: FastAPI) -> None:
    responses = application.openapi()["paths"]["/api/stream"]["get"]["responses"]
    assert responses["200"] == sse_schema_response


def test_untyped_stream_documents_the_plain_event_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    content = paths["/api/events"]["get"]["responses"]["200"]["content"]
    schema = content["text/event-stream"]["itemSchema"]
    assert "required" not in schema
    assert schema["properties"]["data"] == {"type": "string"}
