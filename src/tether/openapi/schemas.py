"""JSON Schemas of the types an OpenAPI document mentions, generated together by pydantic.

Every type is registered with :meth:`SchemaRegistry.schema` while the document is built, which
returns a placeholder dict; :meth:`SchemaRegistry.finish` then generates all schemas in one go
(so models shared by several operations become one ``components/schemas`` entry, named as
pydantic names them, ``-Input``/``-Output`` when the two directions differ) and fills the
placeholders. FastAPI's conventions are kept: a field's type is wrapped as
``Annotated[type, FieldInfo]`` so its constraints, default and examples show, and a schema that
is not a ``$ref`` gets a title from the field's alias (``item_id`` -> ``Item Id``).
"""

from __future__ import annotations

import typing
from typing import Any, Literal

from tether.exceptions import require

__all__ = ["REF_PREFIX", "SchemaRegistry", "deep_update", "field_info"]

REF_PREFIX = "#/components/schemas/"
Mode = Literal["validation", "serialization"]

_CONSTRAINTS = ("gt", "ge", "lt", "le", "min_length", "max_length", "pattern")


def field_info(info: Any) -> Any:
    """A pydantic ``FieldInfo`` carrying a tether marker's default, constraints and docs."""
    pydantic = require("pydantic", "pydantic")
    from pydantic_core import PydanticUndefined

    kw: dict[str, Any] = {}
    # "deprecated" is documented on the parameter itself (pydantic ignores it in a TypeAdapter).
    for name in (*_CONSTRAINTS, "title", "description", "examples", "json_schema_extra"):
        value = getattr(info, name, None)
        if value is not None:
            kw[name] = value
    kw.update(getattr(info, "field_options", None) or {})
    if info.default_factory is not None:
        kw["default_factory"] = info.default_factory
    else:
        kw["default"] = PydanticUndefined if info.required else info.default
    return pydantic.Field(**kw)


class SchemaRegistry:
    """Collects the types of one document and generates their schemas together."""

    def __init__(self, separate_input_output_schemas: bool = True) -> None:
        self.separate = separate_input_output_schemas
        self._inputs: list[tuple[int, Mode, Any]] = []
        self._holes: list[tuple[dict[str, Any], int, Mode, str | None]] = []
        self.definitions: dict[str, Any] = {}

    def schema(
        self,
        annotation: Any,
        mode: Mode = "validation",
        *,
        title: str | None = None,
        into: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A dict that :meth:`finish` fills with the schema of ``annotation``.

        ``title`` is set on a schema that is not a reference (FastAPI's field title);
        ``into`` is a dict given by the user that the schema is merged over.
        """
        pydantic = require("pydantic", "pydantic")
        key = len(self._inputs)
        adapter = pydantic.TypeAdapter(annotation)
        # One schema per model, except where one cannot describe both directions: a computed
        # field exists only in what is sent back (FastAPI splits those models anyway).
        if not self.separate and not (mode == "serialization" and _computes(adapter.core_schema)):
            mode = "validation"
        self._inputs.append((key, mode, adapter.core_schema))
        hole: dict[str, Any] = {} if into is None else into
        self._holes.append((hole, key, mode, title))
        return hole

    def field(self, annotation: Any, info: Any, name: str, mode: Mode = "validation") -> Any:
        """The schema of a parameter declared as ``annotation`` with tether marker ``info``."""
        title = info.title or name.title().replace("_", " ")
        annotated = typing.Annotated[annotation, field_info(info)]
        return self.schema(annotated, mode, title=title)

    def finish(self) -> dict[str, Any]:
        """Generate every schema, fill the placeholders, return the named definitions."""
        if not self._inputs:
            return {}
        generator = _generator_class()(ref_template=REF_PREFIX + "{model}")
        mapping, definitions = generator.generate_definitions(inputs=self._inputs)
        for hole, key, mode, title in self._holes:
            deep_update(hole, mapping[(key, mode)])
            if title is not None and "$ref" not in hole:
                hole["title"] = title
        for definition in definitions.values():
            description = definition.get("description")
            if isinstance(description, str):  # FastAPI cuts docstrings at a form feed
                definition["description"] = description.split("\f")[0]
        self.definitions = {str(name): value for name, value in definitions.items()}
        return self.definitions


def _computes(core_schema: Any) -> bool:
    """True if a pydantic core schema has a computed field anywhere inside."""
    stack = [core_schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("computed_fields"):
                return True
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return False


def _generator_class() -> Any:
    """pydantic's schema generator, with FastAPI's schema for ``bytes`` (OpenAPI 3.1 style)."""
    from pydantic.json_schema import GenerateJsonSchema

    class Generator(GenerateJsonSchema):
        def bytes_schema(self, schema: Any) -> Any:
            result: dict[str, Any] = {
                "type": "string",
                "contentMediaType": "application/octet-stream",
            }
            config = self._config
            mode = config.ser_json_bytes if self.mode == "serialization" else config.val_json_bytes
            if mode == "base64":
                result["contentEncoding"] = "base64"
            self.update_with_validations(result, schema, self.ValidationsMapping.bytes)
            return result

    return Generator


def deep_update(target: dict[str, Any], update: dict[str, Any]) -> None:
    """Merge ``update`` into ``target``: dicts recursively, lists appended, the rest replaced."""
    for key, value in update.items():
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            deep_update(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            target[key] = current + value
        else:
            target[key] = value
