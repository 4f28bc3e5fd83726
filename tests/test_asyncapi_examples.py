"""The AsyncAPI documents of the documented example apps validate against the official schema.

Covers the FastAPI tutorial ports (tutorial001-003), the typed chat example and the chat demo
(``tether.demo.app``).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tether.asyncapi import generate

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).parent / "data" / "asyncapi-3.0.0.json").read_text("utf-8"))
EXAMPLES = ["tutorial001", "tutorial002", "tutorial003", "typed_chat"]
DEMO = "tether.demo.app"


def load_example(name: str) -> Any:
    path = ROOT / "docs" / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"asyncapi_example_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered first, as a normal import would be: pydantic resolves postponed annotations
    # through sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def assert_valid(doc: dict[str, Any]) -> None:
    validator = jsonschema.Draft7Validator(SCHEMA)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]
    assert not errors, errors


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_documents_validate(name: str) -> None:
    module = load_example(name)
    apps = [value for key, value in vars(module).items() if key.startswith("app")]
    assert apps
    for app in apps:
        doc = generate(app)
        assert_valid(doc)
        assert doc["channels"], f"{name}: no WebSocket route documented"


def test_demo_document_validates() -> None:
    doc = generate(importlib.import_module(DEMO).app)
    assert_valid(doc)
    assert doc["channels"], "the demo's WebSocket route is not documented"
