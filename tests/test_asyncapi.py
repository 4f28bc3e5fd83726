"""AsyncAPI 3.0 generation: routes, mounts, parameters, messages, channels; served docs."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import jsonschema
import msgspec
import pydantic
import pytest

from tether.applications import Router, Tether
from tether.asyncapi import document, generate, install, render_page, route_doc
from tether.channels import ChannelOptions, Channels
from tether.messages import message_handler
from tether.routing import Mount, WebSocketRoute
from tether.testclient import TestClient
from tether.websockets import WebSocket

SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "asyncapi-3.0.0.json").read_text(encoding="utf-8")
)
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def assert_valid(doc: dict[str, Any]) -> None:
    """Valid against the official schema, and every local $ref resolves."""
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in VALIDATOR.iter_errors(doc)]
    assert not errors, errors
    text = json.dumps(doc)
    for ref in set(re.findall(r'"\$ref": "#/([^"]+)"', text)):
        node: Any = doc
        for part in ref.split("/"):
            assert part in node, f"unresolved $ref #/{ref}"
            node = node[part]


class Join(pydantic.BaseModel):
    """Enter a room."""

    type: Literal["join"]
    name: str


class Say(pydantic.BaseModel):
    type: Literal["say"]
    text: str


ClientMessage = Annotated[Union[Join, Say], pydantic.Field(discriminator="type")]  # noqa: UP007


class Said(msgspec.Struct, tag="said"):
    """Someone said something."""

    name: str
    text: str


@dataclasses.dataclass
class Ping:
    type: Literal["ping"]
    n: int


@dataclasses.dataclass
class Pong:
    type: Literal["pong"]
    n: int


def build_app() -> tuple[Tether, Channels]:
    app = Tether(title="Chat", version="2.1.0", description="A chat.")
    hub = Channels()
    hub.namespace("chat", ChannelOptions(history_size=10, presence=True, join_leave=True))
    hub.namespace("feed", ChannelOptions(client_publish=True))

    @app.websocket("/rooms/{room}")
    @document(summary="Chat in a room", tags=["chat"], receives=ClientMessage, sends=Said)
    async def room(websocket: WebSocket, room: str) -> None:
        """Join a room and talk."""

    @app.websocket("/rpc")
    @message_handler
    async def rpc(message: Ping) -> Pong:
        return Pong(type="pong", n=message.n)

    @app.websocket("/hidden")
    @document(include_in_schema=False)
    async def hidden(websocket: WebSocket) -> None: ...

    @app.get("/http")
    async def plain_http() -> dict[str, str]:
        return {}

    async def versioned(websocket: WebSocket) -> None: ...

    app.mount("/v1", Mount("", routes=[WebSocketRoute("/items/{id:int}", versioned)]))
    router = Router(prefix="/api")

    @router.websocket("/events")
    async def events(websocket: WebSocket) -> None: ...

    app.include_router(router)
    app.add_websocket_route("/channels", hub.endpoint, name="channels")
    return app, hub


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    app, _ = build_app()
    return generate(app, servers=["ws://localhost:8000"])


def test_document_validates_against_the_official_schema(doc: dict[str, Any]) -> None:
    assert_valid(doc)
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"] == {"title": "Chat", "version": "2.1.0", "description": "A chat."}
    assert doc["servers"] == {"default": {"host": "localhost:8000", "protocol": "ws"}}


def test_every_websocket_route_is_a_channel_with_its_full_address(doc: dict[str, Any]) -> None:
    addresses = {key: channel["address"] for key, channel in doc["channels"].items()}
    assert addresses["room"] == "/rooms/{room}"
    assert addresses["rpc"] == "/rpc"
    assert addresses["versioned"] == "/v1/items/{id}"
    assert addresses["events"] == "/api/events"
    assert addresses["channels"] == "/channels"
    assert "hidden" not in addresses and "/http" not in addresses.values()


def test_path_parameters_name_their_convertor(doc: dict[str, Any]) -> None:
    assert doc["channels"]["room"]["parameters"] == {
        "room": {"description": "path parameter (str)"}
    }
    assert doc["channels"]["versioned"]["parameters"]["id"]["description"].endswith("(int)")


def test_route_metadata_and_docstring(doc: dict[str, Any]) -> None:
    room = doc["channels"]["room"]
    assert room["summary"] == "Chat in a room"
    assert room["description"] == "Join a room and talk."
    assert room["tags"] == [{"name": "chat"}]
    assert doc["operations"]["room.receive"]["tags"] == [{"name": "chat"}]


def test_union_members_become_messages_of_receive_and_send(doc: dict[str, Any]) -> None:
    room_ops = {k: v for k, v in doc["operations"].items() if k.startswith("room.")}
    assert room_ops["room.receive"]["action"] == "receive"
    assert room_ops["room.receive"]["messages"] == [
        {"$ref": "#/channels/room/messages/Join"},
        {"$ref": "#/channels/room/messages/Say"},
    ]
    assert room_ops["room.send"]["messages"] == [{"$ref": "#/channels/room/messages/Said"}]
    messages = doc["components"]["messages"]
    assert messages["Join"]["summary"] == "Enter a room."
    assert messages["Said"]["payload"] == {"$ref": "#/components/schemas/Said"}
    join_schema = doc["components"]["schemas"]["Join"]
    assert join_schema["required"] == ["type", "name"]
    assert doc["components"]["schemas"]["Said"]["properties"]["type"] == {"enum": ["said"]}


def test_reply_style_handler_documents_a_reply(doc: dict[str, Any]) -> None:
    operation = doc["operations"]["rpc.receive"]
    assert operation["messages"] == [{"$ref": "#/channels/rpc/messages/Ping"}]
    assert operation["reply"]["messages"] == [{"$ref": "#/channels/rpc/messages/Pong"}]
    assert "rpc.send" not in doc["operations"]
    assert doc["components"]["schemas"]["Pong"]["properties"]["n"] == {"type": "integer"}


def test_routes_without_message_types_have_no_operations(doc: dict[str, Any]) -> None:
    assert "messages" not in doc["channels"]["events"]
    assert not [key for key in doc["operations"] if key.startswith("events.")]


def test_channels_namespaces_are_documented(doc: dict[str, Any]) -> None:
    chat = doc["channels"]["namespace.chat"]
    assert chat["address"] == "chat:{channel}"
    assert set(chat["messages"]) == {"ChannelPublication", "ChannelJoin", "ChannelLeave"}
    assert chat["x-tether-channel-options"]["history_size"] == 10
    assert chat["x-tether-channel-options"]["slow_consumer"] == "disconnect"
    assert "`channels`" in chat["description"]
    feed_ops = [key for key in doc["operations"] if key.startswith("namespace.feed.")]
    assert sorted(feed_ops) == ["namespace.feed.receive", "namespace.feed.send"]


def test_explicit_channels_hub_without_a_route() -> None:
    hub = Channels()
    hub.namespace("alerts", ChannelOptions())
    result = generate(Tether(), channels=hub)
    assert_valid(result)
    assert result["channels"]["namespace.alerts"]["address"] == "alerts:{channel}"
    assert result["info"] == {"title": "FastAPI", "version": "0.1.0"}


def test_msgspec_and_dataclass_unions_validate() -> None:
    class A(msgspec.Struct, tag="a"):
        x: int

    class B(msgspec.Struct, tag="b"):
        y: list[str]

    app = Tether()

    @app.websocket("/m")
    @document(receives=A | B, sends=Ping | Pong)
    async def endpoint(websocket: WebSocket) -> None: ...

    result = generate(app)
    assert_valid(result)
    assert set(result["channels"]["endpoint"]["messages"]) == {"A", "B", "Ping", "Pong"}


def test_nested_models_and_discriminators_are_adjusted_for_asyncapi() -> None:
    class Inner(pydantic.BaseModel):
        value: float

    class Outer(pydantic.BaseModel):
        type: Literal["outer"]
        inner: Inner
        choice: Annotated[Union[Join, Say], pydantic.Field(discriminator="type")]  # noqa: UP007

    app = Tether()

    @app.websocket("/n")
    @document(receives=Outer)
    async def nested(websocket: WebSocket) -> None: ...

    result = generate(app)
    assert_valid(result)
    schemas = result["components"]["schemas"]
    assert schemas["Outer"]["properties"]["inner"] == {"$ref": "#/components/schemas/Inner"}
    assert schemas["Outer"]["properties"]["choice"]["discriminator"] == "type"
    assert "$defs" not in json.dumps(result)


def test_document_decorator_merges_with_the_handler_in_either_order() -> None:
    @document(summary="outer", tags=["t"])
    @message_handler
    async def first(message: Ping) -> Pong: ...

    @message_handler
    @document(summary="inner", sends=Said)
    async def second(message: Ping) -> Pong: ...

    one, two = route_doc(WebSocketRoute("/a", first)), route_doc(WebSocketRoute("/b", second))
    assert (one.summary, one.tags, one.receives, one.sends) == ("outer", ("t",), Ping, Pong)
    assert (two.summary, two.sends, two.receives) == ("inner", Said, Ping)


def test_route_attributes_win_over_the_endpoint() -> None:
    @document(summary="from endpoint", description="endpoint text")
    async def endpoint(websocket: WebSocket) -> None: ...

    route = WebSocketRoute("/a", endpoint)
    route.summary = "from route"  # type: ignore[attr-defined]
    route.tags = ["x"]  # type: ignore[attr-defined]
    route.description = ""  # type: ignore[attr-defined]
    doc = route_doc(route)
    assert (doc.summary, doc.description, doc.tags) == ("from route", "endpoint text", ("x",))


def test_duplicate_route_names_get_distinct_channel_keys() -> None:
    async def endpoint(websocket: WebSocket) -> None: ...

    app = Tether(routes=[WebSocketRoute("/a", endpoint), WebSocketRoute("/b", endpoint)])
    result = generate(app)
    assert_valid(result)
    assert {k: v["address"] for k, v in result["channels"].items()} == {
        "endpoint": "/a",
        "endpoint_2": "/b",
    }


def test_install_serves_the_json_and_an_offline_page() -> None:
    app, _ = build_app()
    install(app)
    with TestClient(app) as client:
        served = client.get("/asyncapi.json")
        page = client.get("/asyncapi")
    assert served.status_code == 200
    assert served.json() == json.loads(json.dumps(generate(app)))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/rooms/{room}" in page.text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text), "page must be offline"
    assert "asyncapi" not in {ch["address"] for ch in served.json()["channels"].values()}


def test_page_embeds_the_document_safely() -> None:
    hostile = {"asyncapi": "3.0.0", "info": {"title": "</script><b>x", "version": "1"}}
    page = render_page(hostile, json_url='/a"b.json')
    assert "</script><b>" not in page
    assert 'data-json="/a&quot;b.json"' in page
    embedded = page.split('type="application/json">', 1)[1].split("</script>", 1)[0]
    assert json.loads(embedded) == hostile


def test_the_validator_rejects_a_broken_document(doc: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(doc))
    broken["operations"]["room.receive"]["action"] = "publish"  # AsyncAPI 2 wording
    assert list(VALIDATOR.iter_errors(broken))
