"""Form fields and files as parameters: ``Form()``, ``File()``, ``UploadFile``, form models.

A route with a form parameter reads its body as a form (:meth:`Request.form`, URL-encoded or
multipart) before solving, instead of as JSON. Each parameter then reads the form under its
name or alias, as FastAPI does: an empty string counts as not given; ``list[...]`` collects
repeated fields; ``UploadFile`` takes the uploaded file object, ``bytes`` its content (read
before solving, so extractors stay synchronous); a pydantic model reads its own fields from the
form. Errors are located at ``("body", name)``.

The uploaded files are closed (spooled files deleted) when the request's exit stack closes,
after the response has been sent.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any, Final

from tether.datastructures import FormData, UploadFile
from tether.dependencies.context import MISSING, Context
from tether.dependencies.convert import Invalid, build_converter, is_model_type, shape_of
from tether.dependencies.params import ParamInfo
from tether.exceptions import ConfigurationError
from tether.formparsers import FormLimits

__all__ = ["FORM_LIMITS_KEY", "form_extractor", "form_models", "is_upload_type", "read_form_body"]

#: Scope key of a route's :class:`~tether.formparsers.FormLimits` (when it sets its own).
FORM_LIMITS_KEY: Final = "tether.form_limits"
_MISSING_MSG: Final = "Field required"  # pydantic's phrase, which FastAPI's tests match
_DEFAULT_LIMITS: Final = FormLimits()


def _is_upload(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, UploadFile)


def is_upload_type(annotation: Any) -> bool:
    """``UploadFile`` or a list/optional of it: a file parameter even without ``File()``."""
    return _is_upload(shape_of(annotation).inner)


def _converter(inner: Any, info: ParamInfo, key: str, layout: Any, item: bool) -> Any:
    if _is_upload(inner):

        def upload(raw: Any) -> Any:
            if isinstance(raw, UploadFile):
                return raw
            return Invalid("value_error", f"Expected UploadFile, received: {type(raw)}")

        return upload
    if inner is bytes:
        layout.bytes_keys.add(key)
        return lambda raw: raw if isinstance(raw, bytes) else str(raw).encode()
    convert = build_converter(inner, info, item=item)

    def text(raw: Any) -> Any:
        if isinstance(raw, UploadFile):
            return Invalid("string_type", "a form field was expected, not a file")
        return convert(raw)

    return text


def form_extractor(name: str, annotation: Any, info: ParamInfo, layout: Any) -> Any:
    """An extractor for one form field, file or form model.

    Raises :class:`ConfigurationError` for a type that cannot be read from a form.
    """
    layout.add(info)
    layout.form = True
    # The form key: validation_alias (reading) before alias, as for JSON bodies and FastAPI.
    key = info.validation_alias if isinstance(info.validation_alias, str) else info.alias or name
    shape = shape_of(annotation)
    models = form_models(annotation)
    if models:
        return _model_extractor(annotation, models, info)
    convert = _converter(shape.inner, info, key, layout, item=shape.container is not None)
    return _field_extractor(key, info, convert, shape.container)


def _default_maker(info: ParamInfo) -> Callable[[], Any]:
    factory = info.default_factory
    default = info.default
    return factory if factory is not None else (lambda: default)


def _field_extractor(key: str, info: ParamInfo, convert: Any, container: Any) -> Any:
    loc = ("body", key)
    required = info.required
    make_default = _default_maker(info)
    check_default = info.validate_default  # validate_default=True: checked like a sent value

    def extract(ctx: Context) -> Any:
        form = ctx.body
        raws = [] if form is MISSING else [v for v in form.getlist(key) if v != ""]
        if not raws:
            if required:
                ctx.fail(loc, "missing", _MISSING_MSG, None)
                return MISSING
            if not check_default or container is not None:
                return make_default()
            raws = [make_default()]
        if container is None:
            raws = raws[-1:]
        values = []
        for index, raw in enumerate(raws):
            value = convert(raw)
            if type(value) is Invalid:
                where = loc if container is None else (*loc, index)
                ctx.fail(where, value.kind, value.msg, raw, **(value.ctx or {}))
                return MISSING
            values.append(value)
        if container is None:
            return values[0]
        return values if container is list else container(values)

    return extract


def form_models(annotation: Any) -> list[Any]:
    """The models a form parameter reads the whole form into: one, or a union of them."""
    shape = shape_of(annotation)
    if shape.container is not None:
        return []
    members = typing.get_args(shape.inner) if typing.get_origin(shape.inner) else [shape.inner]
    if typing.get_origin(shape.inner) not in (None, typing.Union, types.UnionType):
        return []
    models = [member for member in members if member is not type(None)]
    return models if models and all(is_model_type(model) for model in models) else []


def _model_extractor(annotation: Any, models: list[Any], info: ParamInfo) -> Any:
    import pydantic

    fields: dict[str, Any] = {}
    for model in models:
        model_fields = getattr(model, "model_fields", None)
        if model_fields is None:
            raise ConfigurationError(f"a form model must be a pydantic model, not {model!r}")
        fields.update(model_fields)
    adapter = pydantic.TypeAdapter(annotation)
    many = {
        field.alias or name
        for name, field in fields.items()
        if shape_of(field.annotation).container is not None
    }
    # The keys the models read: when none of them was sent (even empty), an optional model parameter takes
    # its default (``Profile | None = None`` is None), as in FastAPI. Fields not sent are left
    # to pydantic (an error's input is what was sent).
    own = {key for name, field in fields.items() for key in (field.alias or name, name)}
    optional = not info.required
    make_default = _default_maker(info)

    def extract(ctx: Context) -> Any:
        form: FormData | Any = ctx.body
        data: dict[str, Any] = {}
        if form is not MISSING:
            for key in dict.fromkeys(form.keys()):
                values = [v for v in form.getlist(key) if v != ""]
                if values:
                    single = key in fields or len(values) == 1
                    data[key] = values if key in many or not single else values[-1]
        if optional and (form is MISSING or own.isdisjoint(form.keys())):
            return make_default()
        try:
            return adapter.validate_python(data)
        except pydantic.ValidationError as exc:
            for error in exc.errors(include_url=False):
                ctx.fail(
                    ("body", *error["loc"]),
                    error["type"],
                    error["msg"],
                    error.get("input"),
                    **(error.get("ctx") or {}),
                )
            return MISSING

    return extract


def _unselected(value: Any) -> bool:
    return isinstance(value, UploadFile) and value.filename == "" and not value.size


async def read_form_body(ctx: Context, bytes_keys: frozenset[str] | set[str]) -> None:
    """Parse the body as a form into ``ctx.body``; file contents read for ``bytes`` fields.

    Raises :class:`~tether.formparsers.MultiPartException` (an HTTPException) for a body that
    cannot be parsed or is over a limit.
    """
    connection = ctx.connection
    limits: FormLimits = ctx.scope.get(FORM_LIMITS_KEY) or _DEFAULT_LIMITS
    form = await connection.form(
        max_files=limits.max_files,
        max_fields=limits.max_fields,
        max_part_size=limits.max_part_size,
    )
    if ctx.stack is not None:
        ctx.stack.push_async_callback(form.close)
    # A file input left empty is sent by browsers as an empty part with an empty filename:
    # no file was given, as FastAPI reads it (closed with the form above).
    unselected = any(_unselected(value) for _, value in form.multi_items())
    if bytes_keys or unselected:
        items = []
        for key, value in form.multi_items():
            if _unselected(value):
                continue
            if key in bytes_keys and isinstance(value, UploadFile):
                value = await value.read()
            items.append((key, value))
        form = FormData(items)
    ctx.body = form
