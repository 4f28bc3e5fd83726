"""docs/examples/http_items.py: the documented HTTP example runs and documents itself."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import jsonschema

from tether.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent.parent
SCHEMA = json.loads((ROOT / "tests" / "data" / "openapi-3.1-schema.json").read_text())


def load() -> Any:
    path = ROOT / "docs" / "examples" / "http_items.py"
    spec = importlib.util.spec_from_file_location("http_items_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_filters_validates_and_documents() -> None:
    example = load()
    client = TestClient(example.app)
    assert client.get("/items/1").json() == {"id": 1, "name": "Hammer", "price": 9.5}
    assert client.get("/items/9").status_code == 404
    assert client.post("/items/", json={"name": "Saw", "price": 3}).status_code == 401
    created = client.post(
        "/items/",
        json={"name": "Saw", "price": 3, "owner_notes": "private"},
        headers={"Authorization": "Bearer secret-token"},
    )
    assert (created.status_code, created.json()) == (201, {"id": 2, "name": "Saw", "price": 3.0})

    document = client.get("/openapi.json").json()
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    assert document["x-asyncapi"] == {"url": "/asyncapi.json"}
    assert client.get("/asyncapi.json").status_code == 200
    post = document["paths"]["/items/"]["post"]
    assert post["security"] == [{"OAuth2PasswordBearer": []}]
    assert post["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ItemOut"
    }
    get = document["paths"]["/items/{item_id}"]["get"]
    assert get["tags"] == ["items"]
    assert get["responses"]["404"] == {"description": "No such item"}
    assert "/ws/prices" not in document["paths"]
