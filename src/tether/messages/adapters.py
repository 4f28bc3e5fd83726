"""Adapters: decode, encode and describe one declared message type, compiled once per type.

``adapter_for(T)`` returns a cached :class:`MessageAdapter` for ``T``:

- pydantic models (and pydantic dataclasses), unions of them, and ``Annotated[Union[...],
  Field(discriminator=...)]``: validated by a ``pydantic.TypeAdapter``. A plain union whose
  members all carry a ``Literal`` ``type`` field is made discriminated automatically;
- msgspec ``Struct`` types and tagged unions of them: a ``msgspec.json.Decoder``;
- dataclasses and ``TypedDict`` types: msgspec when installed (else pydantic). A union of them
  must be tagged by a ``Literal`` ``type`` field; tether dispatches on that field itself, since
  msgspec accepts only one dict-like type per union.
- anything else msgspec or pydantic understands (``dict``, ``list[int]``...): the same backend.

Every adapter reports failures as :class:`MessageValidationError` with records
``{"loc", "msg", "type"}``, whatever the backend, and an unknown or missing ``type`` in a
union always gets the same ``unknown_message_type`` / ``missing_message_type`` record.

Every adapter exposes its backend's fastest entry points as attributes, so the receive and
send paths call native code with no wrapper frame: ``parse`` (a frame to an object, raising
the backend's own errors, which ``failure`` turns into :class:`MessageValidationError`) and
``dump`` (an object to UTF-8 JSON bytes). For a pydantic model those are the model's own
``__pydantic_validator__.validate_json`` and ``__pydantic_serializer__.to_json``; for msgspec
a cached ``Decoder(T).decode`` and ``Encoder().encode``.

Libraries are imported lazily: a type can only be a pydantic model if pydantic is already
imported, so classifying a type never imports anything.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from tether.exceptions import ConfigurationError, MissingDependencyError, require
from tether.messages.errors import MessageValidationError, error_record

__all__ = ["MessageAdapter", "adapter_for", "encode", "message_types"]

TAG_FIELD = "type"
REF_TEMPLATE = "#/components/schemas/{name}"

# Compiled adapters by declared type. The receive/send paths read it directly (one dict
# lookup); adapter_for() fills it.
ADAPTERS: dict[Any, MessageAdapter] = {}


class MessageAdapter:
    """Decode, encode and describe one declared type (see the module docstring).

    ``members`` are the message types (one, or each member of a union); ``tags`` maps each
    ``type`` value to its member when the type is a tagged union or a tagged model.
    ``parse(frame)`` decodes and validates, raising the backend's own errors (see
    :meth:`failure`); ``dump(obj)`` encodes as compact UTF-8 JSON.
    """

    __slots__ = ("dump", "members", "parse", "tag_field", "tags", "type")

    parse: Callable[[str | bytes], Any]
    dump: Callable[[Any], bytes]

    def __init__(self, tp: Any, members: tuple[Any, ...], tag_field: str | None) -> None:
        self.type = tp
        self.members = members
        self.tag_field = tag_field
        self.tags: dict[Any, Any] = _tag_map(members, tag_field) if tag_field else {}

    def decode(self, data: str | bytes) -> Any:
        """Parse and validate one frame; raise :class:`MessageValidationError` if it does not fit."""
        try:
            return self.parse(data)
        except Exception as exc:
            error = self.failure(exc)
            if error is None:
                raise
        raise error

    def failure(self, exc: Exception) -> MessageValidationError | None:
        """The :class:`MessageValidationError` for an error ``parse`` raised, or ``None``
        when ``exc`` is not about the frame (a bug to propagate as it is)."""
        return exc if isinstance(exc, MessageValidationError) else None

    def convert(self, obj: Any) -> Any:
        """Validate an already parsed JSON value; raise :class:`MessageValidationError`."""
        raise NotImplementedError

    def encode(self, obj: Any) -> str:
        """Encode ``obj`` as compact JSON text."""
        return self.dump(obj).decode()

    def encode_bytes(self, obj: Any) -> bytes:
        """Encode ``obj`` as compact UTF-8 JSON."""
        return self.dump(obj)

    def json_schema(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return ``(schema, definitions)``; references point at ``#/components/schemas/``."""
        raise NotImplementedError

    def unknown_tag(self, value: Any) -> dict[str, Any]:
        """The error record for a ``type`` value that names no member."""
        expected = ", ".join(repr(tag) for tag in self.tags)
        msg = f"unknown message type {value!r}; expected one of {expected}"
        return error_record([self.tag_field or TAG_FIELD], msg, "unknown_message_type")

    def missing_tag(self) -> dict[str, Any]:
        """The error record for a message without its ``type`` field."""
        expected = ", ".join(repr(tag) for tag in self.tags)
        msg = f"the message has no {self.tag_field!r} field; expected one of {expected}"
        return error_record([self.tag_field or TAG_FIELD], msg, "missing_message_type")

    def __repr__(self) -> str:
        return f"<{type(self).__name__} for {_type_name(self.type)}>"


class _PydanticAdapter(MessageAdapter):
    __slots__ = (
        "_adapter",
        "_error",
        "_member_dumps",
        "_strip_tag",
        "_union_dump",
        "_validate_python",
    )

    def __init__(self, tp: Any, members: tuple[Any, ...], tag_field: str | None) -> None:
        super().__init__(tp, members, tag_field)
        pydantic = require("pydantic", "pydantic")
        target = tp
        if len(members) > 1 and tag_field and get_origin(tp) is not Annotated:
            target = Annotated[tp, pydantic.Field(discriminator=tag_field)]
        self._adapter = pydantic.TypeAdapter(target)
        self._error: type[Exception] = pydantic.ValidationError
        # pydantic puts the tag in front of the location of a member's errors.
        self._strip_tag = len(members) > 1 and bool(self.tags)
        self._bind_native(tp)

    def _bind_native(self, tp: Any) -> None:
        # A model's own validator and serializer (else the TypeAdapter's) skip the
        # TypeAdapter's Python wrappers. A model not fully defined yet has placeholders
        # instead: keep the wrappers then, they rebuild it on first use.
        core = sys.modules["pydantic_core"]
        is_model = _is_model(tp)
        owner = tp if is_model else None
        validator = tp.__pydantic_validator__ if is_model else self._adapter.validator
        serializer = tp.__pydantic_serializer__ if is_model else self._adapter.serializer
        if isinstance(validator, core.SchemaValidator):
            self.parse = validator.validate_json
            self._validate_python = validator.validate_python
        else:
            self.parse = self._adapter.validate_json
            self._validate_python = self._adapter.validate_python
        schema = getattr(owner, "__pydantic_core_schema__", None) or self._adapter.core_schema
        if not isinstance(serializer, core.SchemaSerializer):
            self.dump = functools.partial(self._adapter.dump_json, by_alias=True)
        elif _alias_sensitive(schema):
            self.dump = functools.partial(serializer.to_json, by_alias=True)
        else:
            self.dump = serializer.to_json
        if len(self.members) > 1 and all(_is_model(member) for member in self.members):
            # A union serializer costs about twice a member's: go straight to the member's.
            self._member_dumps = {member: adapter_for(member).dump for member in self.members}
            self._union_dump = self.dump
            self.dump = self._dump_member

    def _dump_member(self, obj: Any) -> bytes:
        dump = self._member_dumps.get(type(obj))
        return self._union_dump(obj) if dump is None else dump(obj)

    def failure(self, exc: Exception) -> MessageValidationError | None:
        if isinstance(exc, self._error):
            return MessageValidationError(self._records(exc))
        return None

    def convert(self, obj: Any) -> Any:
        try:
            return self._validate_python(obj)
        except self._error as exc:
            raise MessageValidationError(self._records(exc)) from None

    def json_schema(self) -> tuple[dict[str, Any], dict[str, Any]]:
        schema: dict[str, Any] = self._adapter.json_schema(
            by_alias=True, ref_template=REF_TEMPLATE.replace("{name}", "{model}")
        )
        return schema, schema.pop("$defs", {})

    def _records(self, exc: Any) -> list[dict[str, Any]]:
        records = []
        for error in exc.errors(include_url=False):
            kind = error["type"]
            if kind == "union_tag_invalid":
                records.append(self.unknown_tag(error.get("ctx", {}).get("tag")))
            elif kind == "literal_error" and self.tags and error["loc"] == (self.tag_field,):
                records.append(self.unknown_tag(error.get("input")))
            elif kind == "union_tag_not_found":
                records.append(self.missing_tag())
            else:
                records.append(error_record(self._loc(error["loc"]), error["msg"], kind))
        return records

    def _loc(self, loc: Sequence[str | int]) -> list[str | int]:
        if self._strip_tag and loc and loc[0] in self.tags:
            return list(loc[1:])
        return list(loc)


_MSGSPEC_PATH = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[([^\]]*)\]")
_MSGSPEC_KINDS = (
    ("Object missing required field", "missing"),
    ("Object contains unknown field", "extra_forbidden"),
    ("Expected", "wrong_type"),
    ("Invalid value", "invalid_value"),
)


class _MsgspecAdapter(MessageAdapter):
    __slots__ = ("_decoder", "_defaults", "_encoder", "_msgspec")

    def __init__(self, tp: Any, members: tuple[Any, ...], tag_field: str | None) -> None:
        super().__init__(tp, members, tag_field)
        self._msgspec = require("msgspec", "msgspec")
        self._decoder = self._msgspec.json.Decoder(tp)
        self._encoder = self._msgspec.json.Encoder()
        self._defaults = _class_defaults(tp)
        self.parse = self._parse_filled if self._defaults else self._decoder.decode
        self.dump = self._encoder.encode

    def _parse_filled(self, data: str | bytes) -> Any:
        return self._filled(self._decoder.decode(data))

    def failure(self, exc: Exception) -> MessageValidationError | None:
        if isinstance(exc, self._msgspec.ValidationError):
            return MessageValidationError([self._record(str(exc))])
        if isinstance(exc, self._msgspec.DecodeError):
            return MessageValidationError([_json_invalid(exc)])
        return None

    def convert(self, obj: Any) -> Any:
        try:
            return self._filled(self._msgspec.convert(obj, self.type))
        except self._msgspec.ValidationError as exc:
            raise MessageValidationError([self._record(str(exc))]) from None

    def json_schema(self) -> tuple[dict[str, Any], dict[str, Any]]:
        (schema,), defs = self._msgspec.json.schema_components(
            [self.type], ref_template=REF_TEMPLATE
        )
        return dict(schema), dict(defs)

    def _filled(self, obj: Any) -> Any:
        # msgspec leaves a dataclass field that took its class-level default out of the
        # instance __dict__, and its encoder then omits it; set it, so a decoded message
        # encodes back to the same JSON.
        if self._defaults:
            fields = obj.__dict__
            for name, value in self._defaults:
                if name not in fields:
                    fields[name] = value
        return obj

    def _record(self, text: str) -> dict[str, Any]:
        message, _, where = text.partition(" - at `")
        loc = _msgspec_loc(where.rstrip("`"))
        if self.tags and loc == [self.tag_field] and message.startswith("Invalid "):
            return self.unknown_tag(message.rpartition(" value ")[2].strip("'\""))
        if self.tags and not loc and message == f"Object missing required field `{self.tag_field}`":
            return self.missing_tag()
        kind = next((k for prefix, k in _MSGSPEC_KINDS if message.startswith(prefix)), "invalid")
        if kind in ("missing", "extra_forbidden"):  # name the field in loc, as pydantic does
            loc.append(message.rpartition(" ")[2].strip("`"))
        return error_record(loc, message, kind)


class _TaggedUnionAdapter(MessageAdapter):
    """A union of dataclasses / TypedDicts (or of mixed kinds) dispatched on its tag field."""

    __slots__ = ("_by_tag", "_peek")

    def __init__(self, tp: Any, members: tuple[Any, ...], tag_field: str | None) -> None:
        if not tag_field:
            raise ConfigurationError(
                f"every member of the message union {_type_name(tp)} needs a "
                f"{TAG_FIELD!r} field typed Literal[...] so tether can tell them apart"
            )
        super().__init__(tp, members, tag_field)
        self._by_tag = {tag: adapter_for(member) for tag, member in self.tags.items()}
        self._peek = _tag_reader(tag_field)
        self.parse = self._parse
        self.dump = self._dump

    def _parse(self, data: str | bytes) -> Any:
        # Read only the tag (msgspec skips the rest), then let the member's own decoder
        # parse the frame: no Python dict in between. Anything unusual (not JSON, not an
        # object, an unknown tag) takes the slow path, which names the error.
        if self._peek is not None:
            try:
                tag = self._peek(data).tag
            except Exception:
                tag = None
            member = self._by_tag.get(tag) if isinstance(tag, str | int) else None
            if member is not None:
                try:
                    return member.parse(data)
                except Exception as exc:
                    error = member.failure(exc)
                    if error is None:
                        raise
                raise error
        return self._parse_slow(data)

    def _parse_slow(self, data: str | bytes) -> Any:
        try:
            obj = json.loads(data)
        except ValueError as exc:
            raise MessageValidationError([_json_invalid(exc)]) from None
        return self.convert(obj)

    def convert(self, obj: Any) -> Any:
        if not isinstance(obj, dict):
            msg = "a message must be a JSON object"
            raise MessageValidationError([error_record([], msg, "object_type")])
        assert self.tag_field is not None
        if self.tag_field not in obj:
            raise MessageValidationError([self.missing_tag()])
        tag = obj[self.tag_field]
        member = self._by_tag.get(tag) if isinstance(tag, str | int) else None
        if member is None:
            raise MessageValidationError([self.unknown_tag(tag)])
        return member.convert(obj)

    def _dump(self, obj: Any) -> bytes:
        return adapter_for(type(obj)).dump(obj)

    def json_schema(self) -> tuple[dict[str, Any], dict[str, Any]]:
        defs: dict[str, Any] = {}
        options = []
        for adapter in self._by_tag.values():
            schema, member_defs = adapter.json_schema()
            defs.update(member_defs)
            options.append(schema)
        return {"oneOf": options, "discriminator": self.tag_field}, defs


def adapter_for(tp: Any) -> MessageAdapter:
    """Return the adapter of ``tp``, compiling it on first use (then cached).

    Raises :class:`~tether.exceptions.ConfigurationError` for a union that cannot be told
    apart, and :class:`~tether.exceptions.MissingDependencyError` when the backend the type
    needs is not installed.
    """
    try:
        return ADAPTERS[tp]
    except KeyError:
        pass
    except TypeError:  # an unhashable type expression: compile, do not cache
        return _build(tp)
    adapter = ADAPTERS[tp] = _build(tp)
    return adapter


def encode(obj: Any) -> str:
    """Encode a message object as compact JSON text, with the adapter of its class."""
    return adapter_for(type(obj)).encode(obj)


def message_types(tp: Any) -> tuple[Any, ...]:
    """The message types a declared type stands for: each member of a union, else itself."""
    return _members(tp)


def _build(tp: Any) -> MessageAdapter:
    members = _members(tp)
    tag_field = _common_tag_field(members)
    if _annotated_for(tp, "pydantic"):
        return _PydanticAdapter(tp, members, tag_field)
    kinds = {_kind(member) for member in members}
    if kinds == {"pydantic"}:
        return _PydanticAdapter(tp, members, tag_field)
    if kinds == {"msgspec"}:
        return _MsgspecAdapter(tp, members, tag_field)
    if len(members) > 1:
        return _TaggedUnionAdapter(tp, members, tag_field)
    return _plain_backend()(tp, members, tag_field)


def _plain_backend() -> type[MessageAdapter]:
    try:
        import msgspec  # noqa: F401
    except ImportError:
        try:
            import pydantic  # noqa: F401
        except ImportError:
            raise MissingDependencyError("msgspec", "msgspec") from None
        return _PydanticAdapter
    return _MsgspecAdapter


def _members(tp: Any) -> tuple[Any, ...]:
    inner = get_args(tp)[0] if get_origin(tp) is Annotated else tp
    if get_origin(inner) in (Union, types.UnionType):
        return tuple(arg for arg in get_args(inner) if arg is not type(None))
    return (inner,)


def _annotated_for(tp: Any, module: str) -> bool:
    if get_origin(tp) is not Annotated or module not in sys.modules:
        return False
    return any(type(meta).__module__.startswith(module) for meta in tp.__metadata__)


def _kind(tp: Any) -> str:
    if not isinstance(tp, type):
        return "msgspec" if _annotated_for(tp, "msgspec") else "plain"
    if "pydantic" in sys.modules and hasattr(tp, "__pydantic_core_schema__"):
        return "pydantic"
    msgspec = sys.modules.get("msgspec")
    if msgspec is not None and issubclass(tp, msgspec.Struct):
        return "msgspec"
    return "plain"


def _member_tag(tp: Any) -> tuple[str, tuple[Any, ...]] | None:
    """The tag field and its values of one message type, or ``None`` if it has none."""
    config = getattr(tp, "__struct_config__", None)
    if config is not None:
        return (config.tag_field, (config.tag,)) if config.tag is not None else None
    fields: Mapping[str, Any] | None = getattr(tp, "model_fields", None)
    if fields is not None:
        annotation = fields[TAG_FIELD].annotation if TAG_FIELD in fields else None
    elif dataclasses.is_dataclass(tp) or typing.is_typeddict(tp):
        annotation = typing.get_type_hints(tp).get(TAG_FIELD)
    else:
        return None
    if get_origin(annotation) is Literal:
        return TAG_FIELD, get_args(annotation)
    return None


def _common_tag_field(members: tuple[Any, ...]) -> str | None:
    tags = [_member_tag(member) for member in members]
    fields = {tag[0] for tag in tags if tag is not None}
    if None in tags or len(fields) != 1:
        return None
    return fields.pop()


def _tag_map(members: tuple[Any, ...], tag_field: str) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for member in members:
        tag = _member_tag(member)
        for value in tag[1] if tag else ():
            if value in mapping:
                raise ConfigurationError(
                    f"the message types {_type_name(mapping[value])} and {_type_name(member)} "
                    f"both use {tag_field}={value!r}"
                )
            mapping[value] = member
    return mapping


def _is_model(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic model class (checked once, when an adapter is built)."""
    return isinstance(tp, type) and hasattr(tp, "model_fields")


def _alias_sensitive(schema: Any) -> bool:
    """Whether ``by_alias`` can change what a core schema serializes to.

    True when a field anywhere has a serialization alias, or a custom serializer receives
    the serialization info (it may read ``by_alias``). Without either, the bare serializer
    call equals ``dump_json(by_alias=True)`` and saves building its keyword arguments.
    """
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "serialization_alias" in node or "alias" in node or node.get("info_arg"):
                return True
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return False


def _tag_reader(tag_field: str) -> Callable[[str | bytes], Any] | None:
    """A decoder of just the tag field (as ``.tag``) of a JSON object; ``None`` without msgspec."""
    try:
        import msgspec
    except ImportError:
        return None
    fields = [("tag", Any, msgspec.UNSET)]
    tag_only = msgspec.defstruct("TagOnly", fields, rename={"tag": tag_field})
    decode: Callable[[str | bytes], Any] = msgspec.json.Decoder(tag_only).decode
    return decode


def _class_defaults(tp: Any) -> tuple[tuple[str, Any], ...]:
    """Plain defaults of a dataclass without slots (see ``_MsgspecAdapter._filled``)."""
    if not dataclasses.is_dataclass(tp) or hasattr(tp, "__slots__"):
        return ()
    fields = dataclasses.fields(tp)
    return tuple((f.name, f.default) for f in fields if f.default is not dataclasses.MISSING)


def _msgspec_loc(path: str) -> list[str | int]:
    loc: list[str | int] = []
    for name, index, key in _MSGSPEC_PATH.findall(path.removeprefix("$")):
        loc.append(name or (int(index) if index else key))
    return loc


def _json_invalid(exc: Exception) -> dict[str, Any]:
    return error_record([], f"the frame is not valid JSON: {exc}", "json_invalid")


def _type_name(tp: Any) -> str:
    return getattr(tp, "__qualname__", None) or repr(tp)
