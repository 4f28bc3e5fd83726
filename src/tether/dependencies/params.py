"""Parameter markers: where a value of an endpoint or dependency comes from.

``Path``, ``Query``, ``Header``, ``Cookie`` and ``Body`` say which part of the request a
parameter is read from, plus its default and constraints; ``Depends`` and ``Security`` say that
a parameter is the result of another callable. Each can be written as a default value
(``q: int = Query(3)``) or inside ``Annotated`` (``q: Annotated[int, Query()] = 3``).

The functions return ``Any`` so that ``q: int = Query(3)`` type-checks, as in FastAPI; the
objects they build are the ``*Info`` classes below, which :mod:`tether.dependencies` reads once
when a route is registered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, Literal

from tether.exceptions import ConfigurationError

__all__ = [
    "Body",
    "BodyInfo",
    "Cookie",
    "CookieInfo",
    "DependencyScope",
    "Depends",
    "DependsInfo",
    "File",
    "FileInfo",
    "Form",
    "FormInfo",
    "Header",
    "HeaderInfo",
    "Param",
    "ParamInfo",
    "Path",
    "PathInfo",
    "Query",
    "QueryInfo",
    "Required",
    "Security",
    "SecurityInfo",
]

#: The default of a parameter that must be present (``Query(...)`` or ``Query()``).
Required: Final[Any] = ...

DependencyScope = Literal["connection", "function"]
_SCOPES: Final = {"connection": "connection", "request": "connection", "function": "function"}


class ParamInfo:
    """Where a request value comes from, its default and its constraints.

    ``default`` is :data:`Required` (``...``) for a parameter that must be present.
    ``alias`` is the name in the request when it differs from the Python name;
    ``validation_alias`` overrides it for reading: a name, pydantic's ``AliasChoices`` (the
    first name present wins) or ``AliasPath(name, index)`` (the index-th value of a repeated
    key). ``serialization_alias`` is documentation only.
    Numeric bounds ``gt``/``ge``/``lt``/``le`` apply to numbers; ``min_length``/``max_length``
    apply to strings and lists; ``pattern`` is a regular expression a string must match
    (searched, as pydantic does, so anchor it with ``^...$`` to match the whole value).
    ``description``, ``title``, ``examples``, ``deprecated``, ``json_schema_extra`` (merged into
    the parameter's JSON Schema) and ``openapi_examples`` (OpenAPI's named examples) are
    documentation only.
    """

    __slots__ = (
        "alias",
        "validation_alias",
        "serialization_alias",
        "default",
        "default_factory",
        "deprecated",
        "description",
        "examples",
        "ge",
        "gt",
        "include_in_schema",
        "json_schema_extra",
        "openapi_examples",
        "le",
        "lt",
        "max_length",
        "min_length",
        "pattern",
        "title",
        "field_options",
        "validate_default",
    )
    #: The first item of an error's ``loc`` and the name of the source in messages.
    source: str = ""

    def __init__(
        self,
        default: Any = Required,
        *,
        default_factory: Callable[[], Any] | None = None,
        alias: str | None = None,
        validation_alias: Any = None,
        serialization_alias: str | None = None,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
        title: str | None = None,
        description: str | None = None,
        examples: Sequence[Any] | None = None,
        deprecated: bool | None = None,
        include_in_schema: bool = True,
        json_schema_extra: dict[str, Any] | None = None,
        openapi_examples: dict[str, Any] | None = None,
        discriminator: Any = None,
        strict: bool | None = None,
        validate_default: bool | None = None,
        union_mode: Literal["smart", "left_to_right"] | None = None,
        fail_fast: bool | None = None,
        multiple_of: float | None = None,
        allow_inf_nan: bool | None = None,
        max_digits: int | None = None,
        decimal_places: int | None = None,
        alias_priority: int | None = None,
    ) -> None:
        if default is not Required and default_factory is not None:
            raise ConfigurationError("give a parameter a default or a default_factory, not both")
        self.default = default
        self.default_factory = default_factory
        self.alias = alias
        self.validation_alias = validation_alias
        self.serialization_alias = serialization_alias
        self.gt, self.ge, self.lt, self.le = gt, ge, lt, le
        self.min_length = min_length
        self.max_length = max_length
        self.pattern = pattern
        self.title = title
        self.description = description
        self.examples = list(examples) if examples is not None else None
        self.deprecated = deprecated
        self.include_in_schema = include_in_schema
        self.json_schema_extra = json_schema_extra
        self.openapi_examples = openapi_examples
        # pydantic's own Field options (FastAPI passes them on): a value with any of them is
        # validated by pydantic, with them, wherever it comes from.
        options = {
            "discriminator": discriminator,
            "strict": strict,
            "union_mode": union_mode,
            "fail_fast": fail_fast,
            "multiple_of": multiple_of,
            "allow_inf_nan": allow_inf_nan,
            "max_digits": max_digits,
            "decimal_places": decimal_places,
        }
        self.field_options = {key: value for key, value in options.items() if value is not None}
        # Checked by tether itself: pydantic ignores it outside a model.
        self.validate_default = bool(validate_default)
        del alias_priority  # documentation of pydantic's alias order; tether has one order

    @property
    def required(self) -> bool:
        """True when the parameter has neither a default nor a default factory."""
        return self.default is Required and self.default_factory is None

    def __repr__(self) -> str:
        # FastAPI's form, which its tests compare: the marker's name and the default as str().
        name = type(self).__name__.removesuffix("Info")
        default = "PydanticUndefined" if self.default is Required else self.default
        return f"{name}({default})"


class PathInfo(ParamInfo):
    """A value from the path template, e.g. ``{item_id}`` in ``/items/{item_id}``."""

    __slots__ = ()
    source = "path"


class QueryInfo(ParamInfo):
    """A value from the query string; a ``list[...]`` annotation collects repeated keys."""

    __slots__ = ()
    source = "query"


class Param(QueryInfo):
    """FastAPI's base parameter class (``fastapi.params.Param``); used as a marker on its own,
    it reads the query string, as there."""

    __slots__ = ()


class HeaderInfo(ParamInfo):
    """A request header; ``convert_underscores`` turns ``x_token`` into ``x-token``."""

    __slots__ = ("convert_underscores",)
    source = "header"

    def __init__(self, default: Any = Required, *, convert_underscores: bool = True, **kw: Any):
        super().__init__(default, **kw)
        self.convert_underscores = convert_underscores


class CookieInfo(ParamInfo):
    """A value from the ``Cookie`` request header."""

    __slots__ = ()
    source = "cookie"


class BodyInfo(ParamInfo):
    """A value from the JSON request body (HTTP routes only).

    With one body parameter the whole body is its value, unless ``embed=True``, in which case
    the body is an object and the value is under the parameter's name (or alias). With several
    body parameters each is embedded.
    """

    __slots__ = ("embed", "media_type")
    source = "body"

    def __init__(
        self,
        default: Any = Required,
        *,
        embed: bool | None = None,
        media_type: str = "application/json",
        **kw: Any,
    ) -> None:
        super().__init__(default, **kw)
        self.embed = embed
        self.media_type = media_type


class FormInfo(BodyInfo):
    """A field of a form body (``application/x-www-form-urlencoded`` or multipart).

    The value is read from the form under the parameter's name (or alias); a pydantic model
    type reads its fields from the form (FastAPI's form models). An empty string counts as
    not given.
    """

    __slots__ = ()
    source = "form"

    def __init__(
        self,
        default: Any = Required,
        *,
        media_type: str = "application/x-www-form-urlencoded",
        **kw: Any,
    ) -> None:
        super().__init__(default, embed=True, media_type=media_type, **kw)


class FileInfo(FormInfo):
    """A file of a ``multipart/form-data`` body: ``UploadFile``, ``bytes`` or lists of them."""

    __slots__ = ()
    source = "file"

    def __init__(
        self, default: Any = Required, *, media_type: str = "multipart/form-data", **kw: Any
    ) -> None:
        super().__init__(default, media_type=media_type, **kw)


class DependsInfo:
    """A parameter whose value is the result of calling ``dependency``.

    ``use_cache=False`` calls the dependency again each time it appears instead of reusing
    its value within the same request or connection. ``scope`` sets when the cleanup after a
    ``yield`` runs: ``"connection"`` (the default; alias ``"request"``) after the response is
    sent or the WebSocket endpoint ends, ``"function"`` right after the endpoint returns.
    ``sync_inline=True`` calls a synchronous dependency on the event loop instead of a worker
    thread: only for cheap code that never blocks. ``max_concurrency=N`` lets at most N runs
    of the dependency be in progress at once; the others wait for a slot
    (:mod:`tether.dependencies.limiting`).
    """

    __slots__ = ("dependency", "max_concurrency", "scope", "sync_inline", "use_cache")

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        use_cache: bool = True,
        scope: str | None = None,
        sync_inline: bool = False,
        max_concurrency: int | None = None,
    ) -> None:
        if scope is not None and scope not in _SCOPES:
            raise ConfigurationError(
                f"unknown dependency scope {scope!r}; use 'connection' or 'function'"
            )
        self.dependency = dependency
        self.use_cache = use_cache
        self.scope: DependencyScope = _SCOPES[scope or "connection"]  # type: ignore[assignment]
        self.sync_inline = sync_inline
        self.max_concurrency = max_concurrency

    def _key(self) -> tuple[Any, ...]:
        return (
            type(self),
            self.dependency,
            self.use_cache,
            self.scope,
            self.sync_inline,
            self.max_concurrency,
        )

    def __eq__(self, other: object) -> bool:
        """Equal when every option is: FastAPI's ``Depends`` compares (and hashes) by value."""
        if not isinstance(other, DependsInfo):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__name__", type(self.dependency).__name__)
        cache = "" if self.use_cache else ", use_cache=False"
        return f"{type(self).__name__}({name}{cache})"


class SecurityInfo(DependsInfo):
    """A dependency that also declares the security ``scopes`` it requires.

    A ``SecurityScopes`` parameter of the dependency (or of its sub-dependencies) receives the
    scopes collected from every ``Security`` on the way down from the endpoint.
    """

    __slots__ = ("scopes",)

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        scopes: Sequence[str] | None = None,
        use_cache: bool = True,
        scope: str | None = None,
        sync_inline: bool = False,
        max_concurrency: int | None = None,
    ) -> None:
        super().__init__(
            dependency,
            use_cache=use_cache,
            scope=scope,
            sync_inline=sync_inline,
            max_concurrency=max_concurrency,
        )
        self.scopes = tuple(scopes or ())

    def _key(self) -> tuple[Any, ...]:
        return (*super()._key(), self.scopes)


def Path(default: Any = Required, **kw: Any) -> Any:  # noqa: N802 - FastAPI's spelling
    """Declare a path parameter; see :class:`ParamInfo` for the keywords."""
    return PathInfo(default, **kw)


def Query(default: Any = Required, **kw: Any) -> Any:  # noqa: N802
    """Declare a query parameter; see :class:`ParamInfo` for the keywords."""
    return QueryInfo(default, **kw)


def Header(  # noqa: N802
    default: Any = Required, *, convert_underscores: bool = True, **kw: Any
) -> Any:
    """Declare a header parameter; see :class:`HeaderInfo` and :class:`ParamInfo`."""
    return HeaderInfo(default, convert_underscores=convert_underscores, **kw)


def Cookie(default: Any = Required, **kw: Any) -> Any:  # noqa: N802
    """Declare a cookie parameter; see :class:`ParamInfo` for the keywords."""
    return CookieInfo(default, **kw)


def Body(  # noqa: N802
    default: Any = Required, *, embed: bool | None = None, **kw: Any
) -> Any:
    """Declare a JSON body parameter (HTTP only); see :class:`BodyInfo`."""
    return BodyInfo(default, embed=embed, **kw)


def Form(default: Any = Required, **kw: Any) -> Any:  # noqa: N802
    """Declare a form field (HTTP only); see :class:`FormInfo`."""
    return FormInfo(default, **kw)


def File(default: Any = Required, **kw: Any) -> Any:  # noqa: N802
    """Declare an uploaded file (multipart, HTTP only); see :class:`FileInfo`."""
    return FileInfo(default, **kw)


def Depends(  # noqa: N802
    dependency: Callable[..., Any] | None = None,
    *,
    use_cache: bool = True,
    scope: str | None = None,
    sync_inline: bool = False,
    max_concurrency: int | None = None,
) -> Any:
    """Declare a dependency; see :class:`DependsInfo`.

    Raises :class:`~tether.exceptions.ConfigurationError` for an unknown ``scope``.
    """
    return DependsInfo(
        dependency,
        use_cache=use_cache,
        scope=scope,
        sync_inline=sync_inline,
        max_concurrency=max_concurrency,
    )


def Security(  # noqa: N802
    dependency: Callable[..., Any] | None = None,
    *,
    scopes: Sequence[str] | None = None,
    use_cache: bool = True,
    scope: str | None = None,
    sync_inline: bool = False,
    max_concurrency: int | None = None,
) -> Any:
    """Declare a dependency with security scopes; see :class:`SecurityInfo`."""
    return SecurityInfo(
        dependency,
        scopes=scopes,
        use_cache=use_cache,
        scope=scope,
        sync_inline=sync_inline,
        max_concurrency=max_concurrency,
    )
