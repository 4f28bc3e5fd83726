"""The OpenAPI document: FastAPI's shapes, checked against the official OpenAPI 3.1 schema.

The expected fragments are those FastAPI's own tests and documentation show for the same
declarations (only the imports differ); every generated document is also validated with the
OpenAPI 3.1 JSON Schema vendored in tests/data.
"""

from __future__ import annotations

import json
import warnings
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import jsonschema
import pytest
from pydantic import BaseModel, Discriminator, Field, Tag, computed_field

from tether import Body, Depends, Header, Query, Router, Security, Tether
from tether import Path as PathParam
from tether.openapi import get_openapi
from tether.responses import HTMLResponse, PlainTextResponse
from tether.security import APIKeyHeader, OAuth2PasswordBearer
from tether.testclient import TestClient

SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "data" / "openapi-3.1-schema.json").read_text()
)
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def document_of(app: Tether) -> dict[str, Any]:
    """The served document, after checking it against the OpenAPI 3.1 schema."""
    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    errors = sorted(VALIDATOR.iter_errors(document), key=str)
    assert not errors, errors[0]
    return document


class Item(BaseModel):
    name: str
    description: str | None = None
    price: float
    tax: float | None = None


class User(BaseModel):
    username: str
    full_name: str | None = None


def test_the_schema_rejects_a_broken_document() -> None:
    # The validator is live: a document with an operation lacking responses' shape fails.
    broken = {"openapi": "3.1.0", "info": {"title": "x"}, "paths": {}}
    assert list(VALIDATOR.iter_errors(broken))


def test_the_default_title_is_fastapis() -> None:
    # FastAPI's whole-document tests (and clients generated from a moved app's document, which
    # take their name from info.title) expect "FastAPI" when no title is given.
    assert document_of(Tether())["info"] == {"title": "FastAPI", "version": "0.1.0"}
    assert document_of(Tether(title="Items"))["info"]["title"] == "Items"


def test_path_query_and_body_parameters() -> None:
    app = Tether(title="Items", version="1.0")

    @app.put("/items/{item_id}")
    async def update_item(item_id: int, item: Item, q: str | None = None) -> dict[str, Any]:
        return {"item_id": item_id, **item.model_dump()}

    operation = document_of(app)["paths"]["/items/{item_id}"]["put"]
    assert operation["summary"] == "Update Item"
    assert operation["operationId"] == "update_item_items__item_id__put"
    assert operation["parameters"] == [
        {
            "name": "item_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "title": "Item Id"},
        },
        {
            "name": "q",
            "in": "query",
            "required": False,
            "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "Q"},
        },
    ]
    assert operation["requestBody"] == {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}},
    }
    assert operation["responses"]["422"] == {
        "description": "Validation Error",
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}
        },
    }
    item = document_of(app)["components"]["schemas"]["Item"]
    assert item["required"] == ["name", "price"]
    assert item["properties"]["tax"] == {
        "anyOf": [{"type": "number"}, {"type": "null"}],
        "title": "Tax",
    }


def test_only_hidden_parameters_still_document_the_422() -> None:
    app = Tether()

    @app.get("/hidden")
    async def hidden(secret: Annotated[str | None, Query(include_in_schema=False)] = None) -> str:
        return secret or ""

    @app.get("/none")
    async def none() -> str:
        return ""

    paths = document_of(app)["paths"]
    operation = paths["/hidden"]["get"]
    assert "parameters" not in operation
    assert set(operation["responses"]) == {"200", "422"}
    assert set(paths["/none"]["get"]["responses"]) == {"200"}


def test_a_pydantic_field_describes_a_parameter() -> None:
    app = Tether()

    @app.get("/items")
    async def items(q: Annotated[str, Field(description="Query string")]) -> str:
        return q

    (parameter,) = document_of(app)["paths"]["/items"]["get"]["parameters"]
    assert parameter["description"] == "Query string"
    assert parameter["schema"] == {"type": "string", "description": "Query string", "title": "Q"}


class Priced(BaseModel):
    net: int

    @computed_field  # type: ignore[prop-decorator]
    @property
    def gross(self) -> int:
        return self.net * 2


def test_without_separate_schemas_only_computed_fields_split_a_model() -> None:
    app = Tether(separate_input_output_schemas=False)

    @app.post("/priced")
    async def priced(body: Priced) -> Priced:
        return body

    @app.post("/items")
    async def items(body: Item) -> Item:
        return body

    document = document_of(app)
    schemas = document["components"]["schemas"]
    assert {"Priced-Input", "Priced-Output", "Item"} <= set(schemas)
    assert "Item-Input" not in schemas and "Priced" not in schemas
    assert "gross" in schemas["Priced-Output"]["properties"]
    assert "gross" not in schemas["Priced-Input"]["properties"]


class Cat(BaseModel):
    pet_type: str = "cat"
    meows: int


class Dog(BaseModel):
    pet_type: str = "dog"
    barks: float


def _pet_type(value: Any) -> str:
    return str(value.get("pet_type", "")) if isinstance(value, dict) else ""


Pet = Annotated[Annotated[Cat, Tag("cat")] | Annotated[Dog, Tag("dog")], Discriminator(_pet_type)]


def test_a_discriminator_under_a_default_marker_is_dropped_as_fastapi_does() -> None:
    app = Tether()

    @app.post("/default")
    async def by_default(pet: Pet = Body()) -> Any:
        return pet

    @app.post("/annotated")
    async def annotated(pet: Annotated[Pet, Body()]) -> Any:
        return pet

    def body_schema(path: str) -> Any:
        content = document_of(app)["paths"][path]["post"]["requestBody"]["content"]
        return content["application/json"]["schema"]

    assert "anyOf" in body_schema("/default") and "oneOf" not in body_schema("/default")
    assert "oneOf" in body_schema("/annotated")
    client = TestClient(app)
    for path in ("/default", "/annotated"):
        assert client.post(path, json={"pet_type": "dog", "barks": 1.5}).json() == {
            "pet_type": "dog",
            "barks": 1.5,
        }


def test_parameter_constraints_and_metadata() -> None:
    app = Tether()

    @app.get("/items/{item_id}")
    async def read_items(
        item_id: Annotated[int, PathParam(title="The ID of the item to get", ge=1)],
        q: Annotated[
            str | None,
            Query(alias="item-query", min_length=3, max_length=50, pattern="^fixedquery$"),
        ] = None,
        size: Annotated[float, Query(gt=0, lt=10.5, description="A size")] = 1,
        old: Annotated[str | None, Query(deprecated=True)] = None,
        hidden: Annotated[str | None, Query(include_in_schema=False)] = None,
        x_token: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        return {}

    parameters = document_of(app)["paths"]["/items/{item_id}"]["get"]["parameters"]
    by_name = {parameter["name"]: parameter for parameter in parameters}
    assert set(by_name) == {"item_id", "item-query", "size", "old", "x-token"}
    assert by_name["item_id"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "title": "The ID of the item to get",
    }
    assert by_name["item-query"]["schema"] == {
        "anyOf": [
            {"type": "string", "minLength": 3, "maxLength": 50, "pattern": "^fixedquery$"},
            {"type": "null"},
        ],
        "title": "Item-Query",
    }
    assert by_name["size"]["description"] == "A size"
    assert by_name["size"]["schema"] == {
        "type": "number",
        "exclusiveMinimum": 0,
        "exclusiveMaximum": 10.5,
        "default": 1,
        "description": "A size",
        "title": "Size",
    }
    assert by_name["old"]["deprecated"] is True
    assert by_name["x-token"]["in"] == "header"


def test_several_body_parameters_make_a_body_model() -> None:
    app = Tether()

    @app.put("/items/{item_id}")
    async def update_item(
        item_id: int, item: Item, user: User, importance: Annotated[int, Body()]
    ) -> dict[str, Any]:
        return {}

    document = document_of(app)
    body = document["paths"]["/items/{item_id}"]["put"]["requestBody"]
    ref = "#/components/schemas/Body_update_item_items__item_id__put"
    assert body == {"required": True, "content": {"application/json": {"schema": {"$ref": ref}}}}
    model = document["components"]["schemas"]["Body_update_item_items__item_id__put"]
    assert model["required"] == ["item", "user", "importance"]
    assert model["properties"]["item"] == {"$ref": "#/components/schemas/Item"}
    assert model["properties"]["importance"] == {"type": "integer", "title": "Importance"}


def test_responses_models_status_and_response_class() -> None:
    app = Tether()

    class Message(BaseModel):
        message: str

    @app.get("/items/", response_model=list[Item])
    async def read_items() -> Any:
        return []

    @app.post("/items/", status_code=201, response_description="The created item")
    async def create_item(item: Item) -> Item:
        return item

    @app.get(
        "/items/{item_id}",
        responses={404: {"model": Message, "description": "Not there"}, "5XX": {}},
    )
    async def read_item(item_id: str) -> Item:
        return Item(name="x", price=1)

    @app.delete("/items/{item_id}", status_code=204)
    async def delete_item(item_id: str) -> None:
        return None

    @app.get("/page", response_class=HTMLResponse)
    async def page() -> str:
        return "<p>hi</p>"

    paths = document_of(app)["paths"]
    listed = paths["/items/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listed["schema"] == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/Item"},
        "title": "Response Read Items Items  Get",
    }
    created = paths["/items/"]["post"]["responses"]
    assert created["201"]["description"] == "The created item"
    assert "200" not in created
    one = paths["/items/{item_id}"]["get"]["responses"]
    assert one["404"] == {
        "description": "Not there",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Message"}}},
    }
    assert one["5XX"] == {"description": "Server Error"}
    assert paths["/items/{item_id}"]["delete"]["responses"]["204"] == {
        "description": "Successful Response"
    }
    assert paths["/page"]["get"]["responses"]["200"]["content"] == {
        "text/html": {"schema": {"type": "string"}}
    }
    assert "422" not in paths["/page"]["get"]["responses"]  # nothing to validate


class Tags(Enum):
    items = "items"


def test_tags_docstrings_deprecated_extra_and_schema_exclusion() -> None:
    app = Tether(openapi_tags=[{"name": "items", "description": "Manage items."}])
    router = Router(prefix="/r", tags=["router"], deprecated=True)

    @router.get("/a", tags=[Tags.items])
    async def read_a() -> dict[str, str]:
        """Read A.

        More text.
        \f
        :param nothing: internal notes after a form feed are not published
        """
        return {}

    @router.get("/hidden", include_in_schema=False)
    async def hidden() -> dict[str, str]:
        return {}

    @app.get("/b", summary="Bee", description="The B", openapi_extra={"x-aperture": "-1"})
    async def read_b() -> dict[str, str]:
        return {}

    app.include_router(router, tags=["outer"])
    document = document_of(app)
    operation = document["paths"]["/r/a"]["get"]
    assert operation["tags"] == ["outer", "router", "items"]
    assert operation["description"] == "Read A.\n\nMore text."
    assert operation["deprecated"] is True
    assert "/r/hidden" not in document["paths"]
    b = document["paths"]["/b"]["get"]
    assert (b["summary"], b["description"], b["x-aperture"]) == ("Bee", "The B", "-1")
    assert document["tags"] == [{"name": "items", "description": "Manage items."}]
    assert b["responses"] == {
        "200": {
            "description": "Successful Response",
            "content": {
                "application/json": {
                    "schema": {
                        "additionalProperties": {"type": "string"},
                        "type": "object",
                        "title": "Response Read B B Get",
                    }
                }
            },
        }
    }


def test_operation_ids_custom_function_and_duplicates() -> None:
    def by_tag(route: Any) -> str:
        return f"{route.tags[0]}-{route.name}"

    app = Tether(generate_unique_id_function=by_tag)

    @app.get("/items/", tags=["items"])
    async def list_items() -> list[str]:
        return []

    @app.get("/users/", tags=["users"], operation_id="users_all")
    async def list_users() -> list[str]:
        return []

    paths = document_of(app)["paths"]
    assert paths["/items/"]["get"]["operationId"] == "items-list_items"
    assert paths["/users/"]["get"]["operationId"] == "users_all"

    twice = Tether()

    @twice.get("/x", operation_id="same")
    async def one() -> None: ...

    @twice.get("/y", operation_id="same")
    async def two() -> None: ...

    with pytest.warns(UserWarning, match="Duplicate Operation ID same"):
        twice.openapi()


class FakeScheme:
    """A security dependency read the way FastAPI reads one: ``model`` and ``scheme_name``."""

    def __init__(self, name: str, model: dict[str, Any]) -> None:
        self.scheme_name = name
        self.model = model

    async def __call__(self) -> str:
        return "token"


bearer = FakeScheme(
    "OAuth2PasswordBearer",
    {
        "type": "oauth2",
        "flows": {
            "password": {"tokenUrl": "token", "scopes": {"me": "Read me", "items": "Read items"}}
        },
    },
)


async def current_user(token: Annotated[str, Security(bearer, scopes=["me"])]) -> str:
    return token


def test_security_schemes_and_scopes() -> None:
    app = Tether()

    @app.get("/users/me/items")
    async def read_own_items(
        user: Annotated[str, Security(current_user, scopes=["items"])],
    ) -> list[str]:
        return []

    @app.get("/open")
    async def open_route() -> list[str]:
        return []

    document = document_of(app)
    operation = document["paths"]["/users/me/items"]["get"]
    assert operation["security"] == [{"OAuth2PasswordBearer": ["items", "me"]}]
    assert "security" not in document["paths"]["/open"]["get"]
    assert document["components"]["securitySchemes"] == {"OAuth2PasswordBearer": bearer.model}


def test_route_level_security_scopes_join_an_app_level_requirement() -> None:
    # FastAPI issue 14454: the scheme is reached through an app dependency (no scopes) and
    # through Security(..., scopes=...) in the route's dependencies; one requirement, all scopes.
    app = Tether(dependencies=[Depends(current_user)])

    @app.get("/admin", dependencies=[Security(current_user, scopes=["admin"])])
    async def admin() -> list[str]:
        return []

    @app.get("/plain")
    async def plain() -> list[str]:
        return []

    document = document_of(app)
    assert document["paths"]["/admin"]["get"]["security"] == [
        {"OAuth2PasswordBearer": ["me", "admin"]}
    ]
    assert document["paths"]["/plain"]["get"]["security"] == [{"OAuth2PasswordBearer": ["me"]}]


def test_app_metadata_servers_and_root_path() -> None:
    app = Tether(
        title="ChimichangApp",
        version="0.0.1",
        summary="Deadpool's favorite app.",
        description="Chimichangas **yum**",
        terms_of_service="http://example.com/terms/",
        contact={"name": "Deadpoolio", "email": "dp@example.com"},
        license_info={"name": "Apache 2.0", "identifier": "Apache-2.0"},
        servers=[{"url": "https://stag.example.com", "description": "Staging"}],
        root_path="/api/v1",
    )

    @app.get("/app")
    async def read_main(request: Any = None) -> dict[str, str]:
        return {}

    document = document_of(app)
    assert document["info"] == {
        "title": "ChimichangApp",
        "summary": "Deadpool's favorite app.",
        "description": "Chimichangas **yum**",
        "termsOfService": "http://example.com/terms/",
        "contact": {"name": "Deadpoolio", "email": "dp@example.com"},
        "license": {"name": "Apache 2.0", "identifier": "Apache-2.0"},
        "version": "0.0.1",
    }
    assert document["servers"] == [
        {"url": "/api/v1"},
        {"url": "https://stag.example.com", "description": "Staging"},
    ]


def test_urls_can_be_moved_or_switched_off() -> None:
    app = Tether(openapi_url="/api/openapi.json", docs_url="/documentation", redoc_url=None)
    client = TestClient(app)
    assert client.get("/openapi.json").status_code == 404
    assert client.get("/api/openapi.json").status_code == 200
    page = client.get("/documentation")
    assert page.status_code == 200 and "/api/openapi.json" in page.text
    assert client.get("/redoc").status_code == 404

    off = TestClient(Tether(openapi_url=None))
    assert [off.get(url).status_code for url in ("/openapi.json", "/docs", "/redoc")] == [404] * 3


def test_pages_and_assets_are_served_offline() -> None:
    client = TestClient(Tether(title="Offline"))
    for url, marker in (("/docs", "SwaggerUIBundle"), ("/redoc", "<redoc")):
        page = client.get(url)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert marker in page.text
        assert "http://" not in page.text and "https://" not in page.text  # no CDN
    for name, kind in (
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui.css", "css"),
        ("redoc.standalone.js", "javascript"),
        ("oauth2-redirect.js", "javascript"),
    ):
        asset = client.get(f"/docs-assets/{name}")
        assert asset.status_code == 200 and kind in asset.headers["content-type"], name
        assert len(asset.content) > 1000
    assert client.get("/docs-assets/..%2Fapps.py").status_code == 404
    assert client.get("/docs-assets/LICENSE").status_code == 404
    assert "oauth2-redirect.js" in client.get("/docs/oauth2-redirect").text


def test_plain_and_websocket_routes_are_not_operations() -> None:
    app = Tether()

    async def plain(request: Any) -> PlainTextResponse:
        return PlainTextResponse("x")

    app.add_route("/plain", plain)

    @app.websocket("/ws")
    async def ws(websocket: Any) -> None: ...

    assert document_of(app)["paths"] == {}


def test_get_openapi_from_routes_and_cached_document() -> None:
    app = Tether()

    @app.get("/a")
    async def a(dep: Annotated[str, Depends(lambda: "x")]) -> str:
        return dep

    document = get_openapi(title="Direct", version="2", routes=app.routes)
    VALIDATOR.validate(document)
    assert document["info"] == {"title": "Direct", "version": "2"}
    assert app.openapi() is app.openapi()  # generated once
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app.openapi_schema = None
        assert app.openapi()["paths"]["/a"]["get"]["responses"]["200"]["content"] == {
            "application/json": {"schema": {"type": "string", "title": "Response A A Get"}}
        }


oauth2 = OAuth2PasswordBearer(tokenUrl="token", scopes={"me": "Read me"})


def test_security_schemes_of_tether_security() -> None:
    app = Tether()

    @app.get("/me")
    async def me(
        token: Annotated[str, Security(oauth2, scopes=["me"])],
        key: Annotated[str, Depends(APIKeyHeader(name="X-Key"))],
    ) -> dict[str, str]:
        return {}

    document = document_of(app)
    assert document["paths"]["/me"]["get"]["security"] == [
        {"OAuth2PasswordBearer": ["me"]},
        {"APIKeyHeader": []},
    ]
    assert document["components"]["securitySchemes"] == {
        "OAuth2PasswordBearer": {
            "type": "oauth2",
            "flows": {"password": {"tokenUrl": "token", "scopes": {"me": "Read me"}}},
        },
        "APIKeyHeader": {"type": "apiKey", "name": "X-Key", "in": "header"},
    }


def test_served_pages_forbid_outside_loads() -> None:
    client = TestClient(Tether())
    for url in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        policy = client.get(url).headers["content-security-policy"]
        assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert '"validatorUrl": null' in client.get("/docs").text


NAMED = {"normal": {"summary": "A normal item", "value": {"name": "Foo", "price": 3.5}}}


def test_openapi_examples_of_parameters_and_bodies() -> None:
    app = Tether()

    @app.put("/items/{item_id}")
    async def update(
        item_id: Annotated[int, PathParam(openapi_examples={"one": {"value": 1}})],
        item: Annotated[Item, Body(openapi_examples=NAMED)],
    ) -> dict[str, int]:
        return {"item_id": item_id}

    operation = document_of(app)["paths"]["/items/{item_id}"]["put"]
    assert operation["parameters"][0]["examples"] == {"one": {"value": 1}}
    assert operation["requestBody"]["content"]["application/json"]["examples"] == NAMED


class Filters(BaseModel):
    limit: int = 100
    order_by: str = "created_at"
    tags: list[str] = []


class ClientHeaders(BaseModel):
    user_agent: str
    x_trace: str | None = None


class SharedOptional(BaseModel):
    shared: int = 1


class SharedRequired(BaseModel):
    shared: int


def test_a_field_two_parameter_models_share_is_required_if_either_requires_it() -> None:
    app = Tether()

    @app.get("/")
    async def read(
        optional: Annotated[SharedOptional, Query()], required: Annotated[SharedRequired, Query()]
    ) -> None:
        pass

    parameters = document_of(app)["paths"]["/"]["get"]["parameters"]
    assert [(p["name"], p["required"]) for p in parameters] == [("shared", True)]


def test_parameter_models_are_documented_field_by_field() -> None:
    # FastAPI lists a Query()/Header()/Cookie() model's fields as parameters (its
    # query/header/cookie_param_models tutorials compare the whole document).
    app = Tether()

    @app.get("/items")
    async def items(
        filters: Annotated[Filters, Query()],
        headers: Annotated[ClientHeaders, Header()],
    ) -> None:
        pass

    @app.get("/maybe")
    async def maybe(filters: Annotated[ClientHeaders | None, Query()] = None) -> None:
        pass

    document = document_of(app)
    parameters = document["paths"]["/items"]["get"]["parameters"]
    assert parameters == [
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "default": 100, "title": "Limit"},
        },
        {
            "name": "order_by",
            "in": "query",
            "required": False,
            "schema": {"type": "string", "default": "created_at", "title": "Order By"},
        },
        {
            "name": "tags",
            "in": "query",
            "required": False,
            "schema": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "title": "Tags",
            },
        },
        {
            "name": "user-agent",
            "in": "header",
            "required": True,
            "schema": {"type": "string", "title": "User Agent"},
        },
        {
            "name": "x-trace",
            "in": "header",
            "required": False,
            "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": "X Trace"},
        },
    ]
    assert "Filters" not in document.get("components", {}).get("schemas", {})
    maybe_parameters = document["paths"]["/maybe"]["get"]["parameters"]
    assert [p["required"] for p in maybe_parameters] == [False, False]


class Aliased(BaseModel):
    p: str = Field(alias="p_alias")
    q: str = Field(validation_alias="q_val_alias")


def test_parameters_are_listed_under_the_name_they_are_read_by() -> None:
    # FastAPI's test_request_params: validation_alias, then alias, then the name; a model
    # field's title comes from that name, and its alias does not leak into the schema.
    app = Tether()

    @app.get("/plain")
    async def plain(
        a: Annotated[str, Query(alias="a_alias")], b: Annotated[str, Query(validation_alias="b_v")]
    ) -> None:
        pass

    @app.get("/model")
    async def model(m: Annotated[Aliased, Query()]) -> None:
        pass

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # pydantic warns about an alias outside a model
        document = document_of(app)
    plain_params = document["paths"]["/plain"]["get"]["parameters"]
    assert [p["name"] for p in plain_params] == ["a_alias", "b_v"]
    model_params = document["paths"]["/model"]["get"]["parameters"]
    assert [(p["name"], p["schema"]["title"]) for p in model_params] == [
        ("p_alias", "P Alias"),
        ("q_val_alias", "Q Val Alias"),
    ]


def test_body_fields_are_documented_under_the_name_they_are_read_by() -> None:
    app = Tether()

    @app.post("/both")
    async def both(
        a: Annotated[str, Body(embed=True, alias="a_alias")],
        b: Annotated[str, Body(embed=True, validation_alias="b_val")],
    ) -> None:
        pass

    document = document_of(app)
    body = document["components"]["schemas"]["Body_both_both_post"]
    assert body["required"] == ["a_alias", "b_val"]
    assert {key: value["title"] for key, value in body["properties"].items()} == {
        "a_alias": "A Alias",
        "b_val": "B Val",
    }
