"""Query/header/cookie parameter models that are optional, nullable or open to extra keys."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, ConfigDict, model_validator

from tether import Query, Tether
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
