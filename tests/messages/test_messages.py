"""Typed messages: adapters for every model kind, the invalid-message policies, receive/send."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypedDict, Union

import msgspec
import pydantic
import pytest

from tether.exceptions import ConfigurationError
from tether.messages import (
    InvalidMessagePolicy,
    MessageValidationError,
    adapter_for,
    encode,
    iter_model,
    message_types,
    receive_model,
    send_model,
)
from tether.testclient import AsyncTestClient
from tether.websockets import WebSocket, WebSocketDisconnect

# --- the same two-message protocol declared three ways -------------------------------------


class PJoin(pydantic.BaseModel):
    type: Literal["join"]
    room: str


class PSay(pydantic.BaseModel):
    type: Literal["say"]
    text: str
    count: int = 1


class SJoin(msgspec.Struct, tag="join"):
    room: str


class SSay(msgspec.Struct, tag="say"):
    text: str
    count: int = 1


@dataclasses.dataclass
class DJoin:
    type: Literal["join"]
    room: str


@dataclasses.dataclass
class DSay:
    type: Literal["say"]
    text: str
    count: int = 1


PYDANTIC = Annotated[Union[PJoin, PSay], pydantic.Field(discriminator="type")]  # noqa: UP007
KINDS: dict[str, tuple[Any, Any, Any]] = {
    "pydantic": (PYDANTIC, PJoin, PSay),
    "pydantic-plain-union": (PJoin | PSay, PJoin, PSay),
    "msgspec": (SJoin | SSay, SJoin, SSay),
    "dataclass": (DJoin | DSay, DJoin, DSay),
}


def say(kind: str, text: str, count: int = 1) -> Any:
    cls = KINDS[kind][2]
    return cls(text=text, count=count) if cls is SSay else cls(type="say", text=text, count=count)


@pytest.fixture(params=list(KINDS))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# --- adapters -------------------------------------------------------------------------------


def test_valid_message_decodes_to_the_member_type(kind: str) -> None:
    union, join, member_say = KINDS[kind]
    adapter = adapter_for(union)
    joined = adapter.decode('{"type":"join","room":"lobby"}')
    said = adapter.decode(b'{"type":"say","text":"hi","count":3}')
    assert isinstance(joined, join) and joined.room == "lobby"
    assert isinstance(said, member_say) and (said.text, said.count) == ("hi", 3)


def test_adapter_is_compiled_once_per_type(kind: str) -> None:
    union = KINDS[kind][0]
    assert adapter_for(union) is adapter_for(union)


@pytest.mark.parametrize(
    ("frame", "loc", "error_type"),
    [
        ('{"type":"say","text":"hi","count":"many"}', ["count"], None),
        ('{"type":"join"}', ["room"], "missing"),
        ('{"type":"shout","text":"hi"}', ["type"], "unknown_message_type"),
        ('{"text":"hi"}', ["type"], "missing_message_type"),
        ("not json", [], "json_invalid"),
    ],
)
def test_invalid_message_reports_loc_and_type(
    kind: str, frame: str, loc: list[Any], error_type: str | None
) -> None:
    with pytest.raises(MessageValidationError) as caught:
        adapter_for(KINDS[kind][0]).decode(frame)
    (record,) = caught.value.errors()
    assert set(record) == {"loc", "msg", "type"}
    assert record["loc"] == loc
    if error_type is not None:
        assert record["type"] == error_type


def test_unknown_type_error_names_the_expected_types(kind: str) -> None:
    with pytest.raises(MessageValidationError) as caught:
        adapter_for(KINDS[kind][0]).decode('{"type":"shout"}')
    assert caught.value.errors()[0]["msg"] == (
        "unknown message type 'shout'; expected one of 'join', 'say'"
    )


def test_non_object_frame_is_invalid(kind: str) -> None:
    with pytest.raises(MessageValidationError) as caught:
        adapter_for(KINDS[kind][0]).decode("[1, 2]")
    assert caught.value.errors()[0]["loc"] == []


def test_encode_is_compact_json_with_the_tag(kind: str) -> None:
    assert encode(say(kind, "hi")) == '{"type":"say","text":"hi","count":1}'


def test_message_types_lists_union_members(kind: str) -> None:
    union, join, member_say = KINDS[kind]
    assert message_types(union) == (join, member_say)


def test_single_model_and_plain_types() -> None:
    assert adapter_for(PSay).decode('{"type":"say","text":"x"}') == PSay(type="say", text="x")
    assert adapter_for(dict[str, int]).decode('{"a":1}') == {"a": 1}
    with pytest.raises(MessageValidationError):
        adapter_for(dict[str, int]).decode('{"a":"b"}')


def test_typeddict_union_is_dispatched_on_its_tag() -> None:
    class TJoin(TypedDict):
        type: Literal["join"]
        room: str

    class TSay(TypedDict):
        type: Literal["say"]
        text: str

    adapter = adapter_for(TJoin | TSay)
    assert adapter.decode('{"type":"say","text":"x"}') == {"type": "say", "text": "x"}
    with pytest.raises(MessageValidationError) as caught:
        adapter.decode('{"type":"nope"}')
    assert caught.value.errors()[0]["type"] == "unknown_message_type"


class LoudSay(PSay):
    volume: int = 11


def test_pydantic_union_encodes_members_and_subclasses_as_declared() -> None:
    adapter = adapter_for(KINDS["pydantic"][0])
    assert adapter.encode(PJoin(type="join", room="r")) == '{"type":"join","room":"r"}'
    # Not a member itself: the union's own serializer decides (the declared PSay fields).
    loud = LoudSay(type="say", text="x")
    assert adapter.encode(loud) == '{"type":"say","text":"x","count":1}'


def test_mixed_union_dispatches_each_member_to_its_own_decoder() -> None:
    adapter = adapter_for(PJoin | DSay)
    assert adapter.decode('{"type":"join","room":"r"}') == PJoin(type="join", room="r")
    assert adapter.decode(b'{"text":"x","type":"say"}') == DSay(type="say", text="x")
    with pytest.raises(MessageValidationError) as caught:
        adapter.decode('{"type":"join","room":5}')
    assert caught.value.errors()[0]["loc"] == ["room"]


@pytest.mark.parametrize("tag", ["null", "[1]", "{}", "true", '"SAY"'])
def test_union_tag_of_another_kind_is_an_unknown_type(tag: str) -> None:
    with pytest.raises(MessageValidationError) as caught:
        adapter_for(DJoin | DSay).decode('{"type":%s,"text":"x"}' % tag)  # noqa: UP031
    assert caught.value.errors()[0]["type"] == "unknown_message_type"


def test_untagged_dataclass_union_is_refused_at_compile_time() -> None:
    @dataclasses.dataclass
    class A:
        x: int

    @dataclasses.dataclass
    class B:
        y: int

    with pytest.raises(ConfigurationError, match="Literal"):
        adapter_for(A | B)


def test_two_members_with_the_same_tag_are_refused() -> None:
    @dataclasses.dataclass
    class Other:
        type: Literal["say"]

    with pytest.raises(ConfigurationError, match="type='say'"):
        adapter_for(DSay | Other)


class Inner(pydantic.BaseModel):
    user_name: str = pydantic.Field(serialization_alias="userName")


class Outer(pydantic.BaseModel):
    inner: Inner


class Shouting(pydantic.BaseModel):
    text: str

    @pydantic.field_serializer("text")
    def upper(self, value: str, info: pydantic.FieldSerializationInfo) -> str:
        return value.upper() if info.by_alias else value


def test_pydantic_encode_uses_aliases_even_when_nested() -> None:
    assert encode(Inner(user_name="a")) == '{"userName":"a"}'
    assert encode(Outer(inner=Inner(user_name="a"))) == '{"inner":{"userName":"a"}}'
    assert encode(Shouting(text="hi")) == '{"text":"HI"}'  # the serializer sees by_alias


# What each codec's raw ``parse`` raises for a frame that is not JSON: the library's own type.
RAW_PARSE_ERRORS: dict[str, type[Exception]] = {
    "pydantic": pydantic.ValidationError,
    "pydantic-plain-union": pydantic.ValidationError,
    "msgspec": msgspec.DecodeError,
    "dataclass": MessageValidationError,
}


def test_parse_and_dump_are_the_raw_codec(kind: str) -> None:
    adapter = adapter_for(KINDS[kind][0])
    frame = '{"type":"say","text":"hi","count":1}'
    message = adapter.parse(frame)
    assert adapter.dump(message) == frame.encode() == adapter.encode_bytes(message)
    with pytest.raises(RAW_PARSE_ERRORS[kind]) as caught:
        adapter.parse("{oops")
    error = adapter.failure(caught.value)
    assert error is not None and error.errors()[0]["type"] == "json_invalid"
    assert adapter.failure(RuntimeError("a bug")) is None


class Buggy(pydantic.BaseModel):
    text: str

    @pydantic.field_validator("text")
    @classmethod
    def explode(cls, value: str) -> str:
        raise LookupError("a bug in the validator")


def test_an_error_that_is_not_about_the_frame_propagates() -> None:
    with pytest.raises(LookupError):
        adapter_for(Buggy).decode('{"text":"x"}')


def test_validation_error_str_names_location_and_message() -> None:
    with pytest.raises(MessageValidationError) as caught:
        adapter_for(PSay).decode('{"type":"say"}')
    assert str(caught.value) == "invalid message: text: Field required"


# --- over a WebSocket, through the test client ----------------------------------------------

Endpoint = Callable[[WebSocket], Awaitable[None]]


def asgi(endpoint: Endpoint) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":  # no lifespan support: a plain return says so
            await endpoint(WebSocket(scope, receive, send))

    return app


def echo_app(union: Any, policy: InvalidMessagePolicy) -> Any:
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        async for message in iter_model(websocket, union, policy=policy):
            await send_model(websocket, message)

    return asgi(endpoint)


async def test_iter_model_receives_and_sends_typed_messages(kind: str) -> None:
    app = echo_app(KINDS[kind][0], InvalidMessagePolicy.ERROR_REPLY)
    async with AsyncTestClient(app) as client, client.websocket_connect("/") as ws:
        await ws.send_text('{"type":"say","text":"hi"}')
        assert await ws.receive_text() == '{"type":"say","text":"hi","count":1}'
        await ws.send_bytes(b'{"type":"join","room":"r"}')
        assert await ws.receive_json() == {"type": "join", "room": "r"}


@pytest.mark.parametrize(
    ("frame", "error_type"),
    [
        ('{"type":"say","text":7}', None),
        ('{"type":"shout"}', "unknown_message_type"),
        ("{oops", "json_invalid"),
    ],
)
async def test_error_reply_policy_answers_and_keeps_the_connection(
    kind: str, frame: str, error_type: str | None
) -> None:
    app = echo_app(KINDS[kind][0], InvalidMessagePolicy.ERROR_REPLY)
    async with AsyncTestClient(app) as client, client.websocket_connect("/") as ws:
        await ws.send_text(frame)
        reply = await ws.receive_json()
        assert reply["type"] == "error" and reply["code"] == "invalid_message"
        assert reply["errors"] and {"loc", "msg", "type"} <= set(reply["errors"][0])
        if error_type:
            assert reply["errors"][0]["type"] == error_type
        await ws.send_text('{"type":"join","room":"still here"}')
        assert (await ws.receive_json())["room"] == "still here"


@pytest.mark.parametrize(
    ("policy", "code"),
    [
        (InvalidMessagePolicy.CLOSE_INVALID_DATA, 1007),
        (InvalidMessagePolicy.CLOSE_UNSUPPORTED_DATA, 1003),
        (InvalidMessagePolicy.CLOSE_POLICY_VIOLATION, 1008),
    ],
)
@pytest.mark.parametrize("frame", ['{"type":"say"}', '{"type":"shout"}'])
async def test_close_policies_close_with_their_code_and_a_reason(
    kind: str, policy: InvalidMessagePolicy, code: int, frame: str
) -> None:
    app = echo_app(KINDS[kind][0], policy)
    async with AsyncTestClient(app) as client, client.websocket_connect("/") as ws:
        await ws.send_text(frame)
        message = await ws.receive()
        assert message["type"] == "websocket.close"
        assert message["code"] == code
        assert message["reason"].startswith("invalid message: ")
        assert len(message["reason"].encode()) <= 123


async def test_close_reason_is_cut_to_123_bytes() -> None:
    long_name = "é" * 100
    model = pydantic.create_model("Long", **{long_name: (int, ...)})  # type: ignore[call-overload]
    app = echo_app(model, InvalidMessagePolicy.CLOSE_INVALID_DATA)
    frame = "{}"
    async with AsyncTestClient(app) as client, client.websocket_connect("/") as ws:
        await ws.send_text(frame)
        message = await ws.receive()
        assert message["code"] == 1007
        assert 100 < len(message["reason"].encode()) <= 123


async def test_raise_policy_hands_the_error_to_the_endpoint() -> None:
    seen: list[list[dict[str, Any]]] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await receive_model(websocket, PSay, policy=InvalidMessagePolicy.RAISE)
        except MessageValidationError as error:
            seen.append(error.errors())
            await websocket.close(4000, "custom")

    async with AsyncTestClient(asgi(endpoint)) as client, client.websocket_connect("/") as ws:
        await ws.send_text('{"type":"say"}')
        assert (await ws.receive())["code"] == 4000
    assert seen[0][0]["loc"] == ["text"]


async def test_receive_model_skips_invalid_frames_under_error_reply() -> None:
    got: list[Any] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        got.append(await receive_model(websocket, SSay))
        await websocket.close()

    async with AsyncTestClient(asgi(endpoint)) as client, client.websocket_connect("/") as ws:
        await ws.send_text('{"type":"say","text":1}')
        assert (await ws.receive_json())["type"] == "error"
        await ws.send_text('{"type":"say","text":"ok"}')
        assert (await ws.receive())["type"] == "websocket.close"
    assert got == [SSay(text="ok")]


async def test_receive_model_raises_disconnect_after_a_close_policy() -> None:
    outcome: list[int] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await receive_model(websocket, DSay, policy=InvalidMessagePolicy.CLOSE_INVALID_DATA)
        except WebSocketDisconnect as exc:
            outcome.append(exc.code)

    async with AsyncTestClient(asgi(endpoint)) as client, client.websocket_connect("/") as ws:
        await ws.send_text("[]")
        assert (await ws.receive())["code"] == 1007
    assert outcome == [1007]


async def test_receive_model_raises_disconnect_when_the_client_leaves() -> None:
    outcome: list[int] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await receive_model(websocket, DSay)
        except WebSocketDisconnect as exc:
            outcome.append(exc.code)

    async with AsyncTestClient(asgi(endpoint)) as client, client.websocket_connect("/") as ws:
        await ws.close(4321)
    assert outcome == [4321]


async def test_receive_model_lets_a_validator_bug_propagate() -> None:
    seen: list[BaseException] = []

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await receive_model(websocket, Buggy)
        except LookupError as exc:
            seen.append(exc)
            await websocket.close(4001)

    async with AsyncTestClient(asgi(endpoint)) as client, client.websocket_connect("/") as ws:
        await ws.send_text('{"text":"x"}')
        assert (await ws.receive())["code"] == 4001
    assert len(seen) == 1


async def test_send_model_binary_mode_and_declared_model() -> None:
    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await send_model(websocket, DSay(type="say", text="b"), mode="binary")
        await send_model(websocket, PSay(type="say", text="t"), model=PJoin | PSay)
        with pytest.raises(ValueError, match="mode"):
            await send_model(websocket, {}, mode="json")  # type: ignore[arg-type]
        await websocket.close()

    async with AsyncTestClient(asgi(endpoint)) as client, client.websocket_connect("/") as ws:
        assert await ws.receive_bytes() == b'{"type":"say","text":"b","count":1}'
        assert await ws.receive_text() == '{"type":"say","text":"t","count":1}'
