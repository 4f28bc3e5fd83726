"""FastAPI's documented SSE and JSON-lines examples (docs_src/server_sent_events/tutorial001-005,
docs_src/stream_json_lines/tutorial001), as apps and tests in the peer's style.

Only the imports differ from the peer; the OpenAPI assertions belong to the HTTP-layer issue.
"""

import json
from collections.abc import AsyncIterable, Iterable
from typing import Annotated

import pytest
from pydantic import BaseModel

from tether import Header
from tether import Tether as FastAPI
from tether.sse import EventSourceResponse, ServerSentEvent
from tether.testclient import TestClient


class Item(BaseModel):
    name: str
    description: str | None


items = [
    Item(name="Plumbus", description="A multi-purpose household device."),
    Item(name="Portal Gun", description="A portal opening device."),
    Item(name="Meeseeks Box", description="A box that summons a Meeseeks."),
]
expected_items = [item.model_dump() for item in items]

# --- tutorial001: four kinds of generator, one stream each ---------------------------------

app1 = FastAPI()


@app1.get("/items/stream", response_class=EventSourceResponse)
async def sse_items() -> AsyncIterable[Item]:
    for item in items:
        yield item


@app1.get("/items/stream-no-async", response_class=EventSourceResponse)
def sse_items_no_async() -> Iterable[Item]:
    yield from items


@app1.get("/items/stream-no-annotation", response_class=EventSourceResponse)
async def sse_items_no_annotation():
    for item in items:
        yield item


@app1.get("/items/stream-no-async-no-annotation", response_class=EventSourceResponse)
def sse_items_no_async_no_annotation():
    yield from items


@pytest.mark.parametrize(
    "path",
    [
        "/items/stream",
        "/items/stream-no-async",
        "/items/stream-no-annotation",
        "/items/stream-no-async-no-annotation",
    ],
)
def test_tutorial001_stream_items(path: str) -> None:
    response = TestClient(app1).get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    data = [
        json.loads(line[len("data: ") :])
        for line in response.text.strip().split("\n")
        if line.startswith("data: ")
    ]
    assert data == expected_items


# --- tutorial002: ServerSentEvent fields ----------------------------------------------------


class PricedItem(BaseModel):
    name: str
    price: float


priced = [
    PricedItem(name="Plumbus", price=32.99),
    PricedItem(name="Portal Gun", price=999.99),
    PricedItem(name="Meeseeks Box", price=49.99),
]

app2 = FastAPI()


@app2.get("/items/stream", response_class=EventSourceResponse)
async def stream_items2() -> AsyncIterable[ServerSentEvent]:
    yield ServerSentEvent(comment="stream of item updates")
    for i, item in enumerate(priced):
        yield ServerSentEvent(data=item, event="item_update", id=str(i + 1), retry=5000)


def test_tutorial002_events_with_fields() -> None:
    response = TestClient(app2).get("/items/stream")
    assert response.status_code == 200
    assert response.text == (
        ": stream of item updates\n\n"
        'event: item_update\ndata: {"name":"Plumbus","price":32.99}\nid: 1\nretry: 5000\n\n'
        'event: item_update\ndata: {"name":"Portal Gun","price":999.99}\nid: 2\nretry: 5000\n\n'
        'event: item_update\ndata: {"name":"Meeseeks Box","price":49.99}\nid: 3\nretry: 5000\n\n'
    )


# --- tutorial003: raw data ------------------------------------------------------------------

app3 = FastAPI()


@app3.get("/logs/stream", response_class=EventSourceResponse)
async def stream_logs() -> AsyncIterable[ServerSentEvent]:
    logs = [
        "2025-01-01 INFO  Application started",
        "2025-01-01 DEBUG Connected to database",
        "2025-01-01 WARN  High memory usage detected",
    ]
    for log_line in logs:
        yield ServerSentEvent(raw_data=log_line)


def test_tutorial003_raw_data() -> None:
    response = TestClient(app3).get("/logs/stream")
    assert response.text == (
        "data: 2025-01-01 INFO  Application started\n\n"
        "data: 2025-01-01 DEBUG Connected to database\n\n"
        "data: 2025-01-01 WARN  High memory usage detected\n\n"
    )


# --- tutorial004: resuming from Last-Event-ID ----------------------------------------------

app4 = FastAPI()


@app4.get("/items/stream", response_class=EventSourceResponse)
async def stream_items4(
    last_event_id: Annotated[int | None, Header()] = None,
) -> AsyncIterable[ServerSentEvent]:
    start = last_event_id + 1 if last_event_id is not None else 0
    for i, item in enumerate(priced):
        if i < start:
            continue
        yield ServerSentEvent(data=item, id=str(i))


def test_tutorial004_resume_from_last_event_id() -> None:
    client = TestClient(app4)
    assert client.get("/items/stream").text.count("data: ") == 3
    resumed = client.get("/items/stream", headers={"last-event-id": "0"}).text
    assert resumed == (
        'data: {"name":"Portal Gun","price":999.99}\nid: 1\n\n'
        'data: {"name":"Meeseeks Box","price":49.99}\nid: 2\n\n'
    )
    assert client.get("/items/stream", headers={"last-event-id": "2"}).text == ""


# --- tutorial005: a stream over POST with a body --------------------------------------------


class Prompt(BaseModel):
    text: str


app5 = FastAPI()


@app5.post("/chat/stream", response_class=EventSourceResponse)
async def stream_chat(prompt: Prompt) -> AsyncIterable[ServerSentEvent]:
    for word in prompt.text.split():
        yield ServerSentEvent(data=word, event="token")
    yield ServerSentEvent(raw_data="[DONE]", event="done")


def test_tutorial005_post_stream() -> None:
    response = TestClient(app5).post("/chat/stream", json={"text": "hello world"})
    assert response.status_code == 200
    assert response.text == (
        'event: token\ndata: "hello"\n\nevent: token\ndata: "world"\n\nevent: done\ndata: [DONE]\n\n'
    )


def test_tutorial005_invalid_body_is_422() -> None:
    response = TestClient(app5).post("/chat/stream", json={"nope": 1})
    assert response.status_code == 422


# --- stream_json_lines tutorial001: a generator without response_class ----------------------

app_jsonl = FastAPI()


@app_jsonl.get("/items/stream")
async def stream_items_jsonl() -> AsyncIterable[Item]:
    for item in items:
        yield item


@app_jsonl.get("/items/stream-no-async")
def stream_items_no_async_jsonl() -> Iterable[Item]:
    yield from items


@pytest.mark.parametrize("path", ["/items/stream", "/items/stream-no-async"])
def test_json_lines(path: str) -> None:
    response = TestClient(app_jsonl).get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/jsonl"
    assert [json.loads(line) for line in response.text.strip().splitlines()] == expected_items


def test_json_lines_openapi_item_schema() -> None:
    paths = TestClient(app_jsonl).get("/openapi.json").json()["paths"]
    content = paths["/items/stream"]["get"]["responses"]["200"]["content"]
    assert content == {"application/jsonl": {"itemSchema": {"$ref": "#/components/schemas/Item"}}}


class Public(BaseModel):
    name: str


leaky = FastAPI()


@leaky.get("/sse", response_class=EventSourceResponse)
async def leaky_sse() -> AsyncIterable[Public]:
    yield {"name": "ann", "secret": "s3cr3t"}


@leaky.get("/lines")
async def leaky_lines() -> AsyncIterable[Public]:
    yield {"name": "ann", "secret": "s3cr3t"}


@pytest.mark.parametrize("path", ["/sse", "/lines"])
def test_stream_items_are_filtered_by_the_item_type(path: str) -> None:
    text = TestClient(leaky).get(path).text
    assert '"name":"ann"' in text
    assert "secret" not in text
