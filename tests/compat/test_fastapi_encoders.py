"""FastAPI's tests/test_jsonable_encoder.py, written as the peer writes them (imports renamed)."""

import datetime as dt
import ipaddress
import re
import uuid
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from math import isinf, isnan
from pathlib import PurePath, PurePosixPath, PureWindowsPath

import pytest
from pydantic import BaseModel, Field, SecretStr, field_serializer
from pydantic_core import PydanticUndefined as Undefined

from tether import Tether as FastAPI
from tether import WebSocket
from tether.encoders import jsonable_encoder
from tether.testclient import TestClient


class Person:
    def __init__(self, name: str):
        self.name = name


class Pet:
    def __init__(self, owner: Person, name: str):
        self.owner = owner
        self.name = name


class DictablePet(Pet):
    def __iter__(self):
        return ((k, v) for k, v in self.__dict__.items())


@dataclass
class Item:
    name: str
    count: int


class Unserializable:
    def __iter__(self):
        raise NotImplementedError()

    @property
    def __dict__(self):
        raise NotImplementedError()


class RoleEnum(Enum):
    admin = "admin"
    normal = "normal"


class ModelWithConfig(BaseModel):
    role: RoleEnum | None = None

    model_config = {"use_enum_values": True}


class ModelWithAlias(BaseModel):
    foo: str = Field(alias="Foo")


class ModelWithDefault(BaseModel):
    foo: str
    bar: str = "bar"
    bla: str = "bla"


@pytest.mark.parametrize("include_kind", [set, list])
def test_encode_dict(include_kind):
    pet = {"name": "Firulais", "owner": {"name": "Foo"}}
    assert jsonable_encoder(pet) == {"name": "Firulais", "owner": {"name": "Foo"}}
    assert jsonable_encoder(pet, include=include_kind(["name"])) == {"name": "Firulais"}
    assert jsonable_encoder(pet, exclude=include_kind(["owner"])) == {"name": "Firulais"}
    assert jsonable_encoder(pet, include=include_kind()) == {}
    assert jsonable_encoder(pet, exclude=include_kind()) == pet


@pytest.mark.parametrize("pet_class", [Pet, DictablePet])
def test_encode_class(pet_class):
    pet = pet_class(owner=Person(name="Foo"), name="Firulais")
    assert jsonable_encoder(pet) == {"name": "Firulais", "owner": {"name": "Foo"}}
    assert jsonable_encoder(pet, include={"name"}) == {"name": "Firulais"}
    assert jsonable_encoder(pet, exclude={"owner"}) == {"name": "Firulais"}
    assert jsonable_encoder(pet, include={}) == {}


def test_encode_dataclass():
    item = Item(name="foo", count=100)
    assert jsonable_encoder(item) == {"name": "foo", "count": 100}
    assert jsonable_encoder(item, include={"name"}) == {"name": "foo"}
    assert jsonable_encoder(item, exclude={"count"}) == {"name": "foo"}
    assert jsonable_encoder(item, include={}) == {}


def test_encode_unsupported():
    with pytest.raises(ValueError):
        jsonable_encoder(Unserializable())


def test_encode_custom_json_encoders_model():
    class ModelWithCustomEncoder(BaseModel):
        dt_field: dt.datetime

        @field_serializer("dt_field")
        def serialize_dt_field(self, value):
            return value.replace(microsecond=0, tzinfo=dt.UTC).isoformat()

    model = ModelWithCustomEncoder(dt_field=dt.datetime(2019, 1, 1, 8))
    assert jsonable_encoder(model) == {"dt_field": "2019-01-01T08:00:00+00:00"}


def test_encode_model_with_config_and_alias():
    assert jsonable_encoder(ModelWithConfig(role=RoleEnum.admin)) == {"role": "admin"}
    assert jsonable_encoder(ModelWithAlias(Foo="Bar")) == {"Foo": "Bar"}
    assert jsonable_encoder(ModelWithAlias(Foo="Bar"), by_alias=False) == {"foo": "Bar"}


def test_encode_model_with_default():
    model = ModelWithDefault(foo="foo", bar="bar")
    assert jsonable_encoder(model) == {"foo": "foo", "bar": "bar", "bla": "bla"}
    assert jsonable_encoder(model, exclude_unset=True) == {"foo": "foo", "bar": "bar"}
    assert jsonable_encoder(model, exclude_defaults=True) == {"foo": "foo"}
    assert jsonable_encoder(model, include={"foo"}) == {"foo": "foo"}
    assert jsonable_encoder(model, exclude={"bla"}) == {"foo": "foo", "bar": "bar"}
    assert jsonable_encoder(model, include={}) == {}
    assert jsonable_encoder([model], exclude_defaults=True) == [{"foo": "foo"}]
    assert jsonable_encoder({"key": [model]}, exclude_defaults=True) == {"key": [{"foo": "foo"}]}


def test_custom_encoders():
    class safe_datetime(dt.datetime):
        pass

    instance = {"dt_field": safe_datetime.now()}
    for kind in (safe_datetime, dt.datetime):
        encoded = jsonable_encoder(instance, custom_encoder={kind: lambda o: o.strftime("%H:%M")})
        assert encoded["dt_field"] == instance["dt_field"].strftime("%H:%M")
    assert jsonable_encoder(instance)["dt_field"] == instance["dt_field"].isoformat()


def test_custom_enum_encoders():
    class MyEnum(Enum):
        ENUM_VAL_1 = "ENUM_VAL_1"

    encoded = jsonable_encoder(
        MyEnum.ENUM_VAL_1, custom_encoder={MyEnum: lambda v: v.value.lower()}
    )
    assert encoded == "enum_val_1"


def test_encode_paths():
    assert jsonable_encoder({"path": PurePath("/foo", "bar")}) == {
        "path": str(PurePath("/foo/bar"))
    }

    class ModelWithPath(BaseModel):
        posix: PurePosixPath
        windows: PureWindowsPath

        model_config = {"arbitrary_types_allowed": True}

    model = ModelWithPath(
        posix=PurePosixPath("/foo", "bar"), windows=PureWindowsPath("/foo", "bar")
    )
    assert jsonable_encoder(model) == {"posix": "/foo/bar", "windows": "\\foo\\bar"}


def test_decimal_encoder():
    assert jsonable_encoder({"value": Decimal(1.23)}) == {"value": 1.23}
    assert jsonable_encoder({"value": Decimal(2)}) == {"value": 2}
    assert isnan(jsonable_encoder({"value": Decimal("NaN")})["value"])
    assert isinf(jsonable_encoder({"value": Decimal("-Infinity")})["value"])


def test_encode_deque_encodes_child_models():
    class Model(BaseModel):
        test: str

    assert jsonable_encoder(deque([Model(test="test")]))[0]["test"] == "test"


def test_encode_pydantic_undefined():
    assert jsonable_encoder({"value": Undefined}) == {"value": None}


def test_encode_the_standard_library_kinds():
    value = uuid.UUID("12345678-1234-5678-1234-567812345678")
    data = {
        "uuid": value,
        "date": dt.date(2024, 1, 2),
        "time": dt.time(3, 4),
        "delta": dt.timedelta(minutes=1, milliseconds=500),
        "ip": ipaddress.ip_address("::1"),
        "pattern": re.compile("a+"),
        "set": {1},
        "frozen": frozenset({2}),
        "tuple": (3, None),
        "generator": (n for n in range(2)),
        "bytes": b"hi",
        "secret": SecretStr("s"),
        "enum": RoleEnum.normal,
        "_sa_instance_state": object(),
        "none": None,
    }
    assert jsonable_encoder(data) == {
        "uuid": str(value),
        "date": "2024-01-02",
        "time": "03:04:00",
        "delta": 60.5,
        "ip": "::1",
        "pattern": "a+",
        "set": [1],
        "frozen": [2],
        "tuple": [3, None],
        "generator": [0, 1],
        "bytes": "hi",
        "secret": "**********",
        "enum": "normal",
        "none": None,
    }
    assert "none" not in jsonable_encoder({"none": None}, exclude_none=True)


def test_jsonable_encoder_in_a_websocket_endpoint():
    app = FastAPI()

    @app.websocket("/ws")
    async def websocket_endpoint(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_json(jsonable_encoder({"item": Item(name="x", count=1)}))

    with TestClient(app).websocket_connect("/ws") as websocket:
        assert websocket.receive_json() == {"item": {"name": "x", "count": 1}}
