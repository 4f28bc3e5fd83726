"""Query/header/cookie parameter models that are optional, nullable or open to extra keys."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from tether import Cookie, Header, Query, Tether
from tether.testclient import TestClient

CALLS: list[str] = []


class Ignoring(BaseModel):
    term: str = "default"


class Allowing(BaseModel):
    model_config = ConfigDict(extra="allow")
    term: str = "default"


class Forbidding(BaseModel):
    model_config = ConfigDict(extra="forbid")
    term: str = "default"


class Checked(BaseModel):
    term: str

    @model_validator(mode="after")
    def seen(self) -> Checked:
        CALLS.append(self.term)
        return self


DEFAULT = Checked(term="parameter default")


class Session(BaseModel):
    session_id: int = Field(alias="sessionId", validation_alias=AliasChoices("sessionId", "old"))


class Trace(BaseModel):
    request_id: str = Field(validation_alias=AliasChoices("X-Request_ID", "X-Legacy_ID"))


@pytest.mark.parametrize("model", [Ignoring, Allowing, Forbidding])
def test_an_open_model_counts_every_key_as_sent(model: Any) -> None:
    app = Tether()

    def read(limit: int = 10, filters: Any = None) -> Any:
        return filters

    read.__annotations__["filters"] = Annotated[model | None, Query()]
    app.get("/")(read)
    client = TestClient(app)
    assert client.get("/").json() is None
    response = client.get("/?limit=5")
    if model is Ignoring:  # only its own keys count
        assert response.json() is None
    elif model is Allowing:  # the other parameter's key is sent, so the model is read
        assert response.json() == {"term": "default", "limit": "5"}
    else:
        assert response.status_code == 422
        assert response.json()["detail"][0]["type"] == "extra_forbidden"
        assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_a_nullable_model_without_default_is_required() -> None:
    app = Tether()

    @app.get("/")
    def read(filters: Annotated[Ignoring | None, Query()]) -> Any:
        return filters

    client = TestClient(app)
    assert client.get("/").json()["detail"] == [
        {"type": "missing", "loc": ["query"], "msg": "Field required", "input": None}
    ]
    assert client.get("/?term=x").json() == {"term": "x"}


def test_a_model_default_is_validated_only_when_asked() -> None:
    app = Tether()

    @app.get("/plain")
    def plain(filters: Annotated[Checked | None, Query()] = DEFAULT) -> Any:
        return filters

    @app.get("/checked")
    def checked(filters: Annotated[Checked | None, Query(validate_default=True)] = DEFAULT) -> Any:
        return filters

    client = TestClient(app)
    CALLS.clear()
    assert client.get("/plain").json() == {"term": "parameter default"}
    assert CALLS == []
    assert client.get("/checked").json() == {"term": "parameter default"}
    assert CALLS == ["parameter default"]


def test_alias_choices_of_a_model_field_are_each_read() -> None:
    app = Tether()

    @app.get("/cookie")
    def cookie(session: Annotated[Session | None, Cookie()] = None) -> Any:
        return session

    @app.get("/header")
    def header(trace: Annotated[Trace | None, Header()] = None) -> Any:
        return trace

    client = TestClient(app)
    for name in ("sessionId", "old"):
        assert client.get("/cookie", headers={"cookie": f"{name}=1"}).json() == {"sessionId": 1}
        bad = client.get("/cookie", headers={"cookie": f"{name}=x"}).json()["detail"]
        assert bad[0]["loc"] == ["cookie", name]
    assert client.get("/cookie", headers={"cookie": "OLD=1"}).json() is None  # case-sensitive
    # Header names: literal (underscores kept) and case-insensitive.
    assert client.get("/header", headers={"x-legacy_id": "a"}).json() == {"request_id": "a"}
    assert client.get("/header", headers={"X-Legacy-ID": "a"}).json() is None
