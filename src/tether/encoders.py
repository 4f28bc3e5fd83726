"""``jsonable_encoder``: turn any value into what ``json.dumps`` accepts (``fastapi.encoders``).

The rules follow the peer's, so code that shapes its messages with it sends the same JSON:

* pydantic models through ``model_dump(mode="json")`` (``by_alias`` on by default);
  dataclasses through ``dataclasses.asdict``; any other object through ``dict(obj)``, then
  ``vars(obj)`` (``ValueError`` listing both failures when neither works);
* enums become their ``value``; dates and times ``isoformat()``; ``timedelta`` its seconds as a
  float; ``Decimal`` an ``int`` when it has no fractional digits, else a ``float``; ``UUID``,
  paths, IP addresses and pydantic's URL/secret/e-mail types ``str``; ``bytes`` are decoded
  as UTF-8; regular expressions give their pattern;
* sets, frozensets, tuples, deques and generators become lists;
* ``include`` / ``exclude`` pick the top-level keys of a dict (the fields of a model);
  ``exclude_none`` drops ``None`` values at every level; ``custom_encoder`` maps a type to a
  function and is consulted first (exact type, then ``isinstance`` in the mapping's order);
  with ``sqlalchemy_safe`` (the default) keys starting with ``_sa`` are left out.

pydantic is not imported here: a value can only be a pydantic model if pydantic was already
loaded, so the pydantic rules are looked up in ``sys.modules`` and added on first need.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import re
import sys
import types
from collections import deque
from collections.abc import Callable, Collection, Mapping
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any
from uuid import UUID

__all__ = ["ENCODERS_BY_TYPE", "IncEx", "decimal_encoder", "jsonable_encoder"]

IncEx = set[int] | set[str] | Mapping[int, Any] | Mapping[str, Any]
"""The ``include`` / ``exclude`` argument: names (or indexes), or a nested mapping of them."""

_Encoder = Callable[[Any], Any]
_SEQUENCES = (list, set, frozenset, types.GeneratorType, tuple, deque)


def decimal_encoder(value: Decimal) -> int | float:
    """``Decimal("1")`` -> ``1``, ``Decimal("1.5")`` -> ``1.5`` (the peer's rule)."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= 0:
        return int(value)
    return float(value)


def _isoformat(value: datetime.date | datetime.time) -> str:
    return value.isoformat()


ENCODERS_BY_TYPE: dict[type[Any], _Encoder] = {
    bytes: lambda value: value.decode(),
    datetime.date: _isoformat,
    datetime.datetime: _isoformat,
    datetime.time: _isoformat,
    datetime.timedelta: lambda value: value.total_seconds(),
    Decimal: decimal_encoder,
    Enum: lambda value: value.value,
    frozenset: list,
    deque: list,
    types.GeneratorType: list,
    ipaddress.IPv4Address: str,
    ipaddress.IPv4Interface: str,
    ipaddress.IPv4Network: str,
    ipaddress.IPv6Address: str,
    ipaddress.IPv6Interface: str,
    ipaddress.IPv6Network: str,
    PurePath: str,
    re.Pattern: lambda value: value.pattern,
    set: list,
    UUID: str,
}
"""Encoders by exact type, then by ``isinstance`` in this order; add your own types here."""

_pydantic_added = False


def _add_pydantic_types() -> None:
    """Add pydantic's string-like types once pydantic is loaded (it is never loaded here)."""
    global _pydantic_added
    _pydantic_added = True
    networks = sys.modules.get("pydantic.networks")
    pydantic_types = sys.modules.get("pydantic.types")
    core = sys.modules.get("pydantic_core")
    found = [
        getattr(networks, "AnyUrl", None),
        getattr(networks, "NameEmail", None),
        getattr(pydantic_types, "SecretStr", None),
        getattr(pydantic_types, "SecretBytes", None),
        getattr(core, "Url", None),
        getattr(sys.modules.get("pydantic.color"), "Color", None),
        getattr(sys.modules.get("pydantic_extra_types.color"), "Color", None),
    ]
    for kind in found:
        if isinstance(kind, type):
            ENCODERS_BY_TYPE.setdefault(kind, str)


def _pydantic_model(obj: Any) -> bool:
    pydantic = sys.modules.get("pydantic")
    if pydantic is None:
        return False
    if not _pydantic_added:
        _add_pydantic_types()
    return isinstance(obj, pydantic.BaseModel)


class _Options:
    """The keyword arguments that travel down the recursion unchanged."""

    __slots__ = ("by_alias", "custom", "exclude_defaults", "exclude_none", "exclude_unset", "sa")

    def __init__(
        self,
        by_alias: bool,
        exclude_unset: bool,
        exclude_defaults: bool,
        exclude_none: bool,
        custom: Mapping[Any, _Encoder],
        sa: bool,
    ) -> None:
        self.by_alias = by_alias
        self.exclude_unset = exclude_unset
        self.exclude_defaults = exclude_defaults
        self.exclude_none = exclude_none
        self.custom = custom
        self.sa = sa


def jsonable_encoder(
    obj: Any,
    include: IncEx | None = None,
    exclude: IncEx | None = None,
    by_alias: bool = True,
    exclude_unset: bool = False,
    exclude_defaults: bool = False,
    exclude_none: bool = False,
    custom_encoder: Mapping[Any, Callable[[Any], Any]] | None = None,
    sqlalchemy_safe: bool = True,
) -> Any:
    """Return ``obj`` as plain JSON-compatible data (see the module docstring for the rules).

    Raises:
        ValueError: an object that is none of the known kinds and neither ``dict(obj)`` nor
            ``vars(obj)`` can read (the error lists both failures).
    """
    options = _Options(
        by_alias,
        exclude_unset,
        exclude_defaults,
        exclude_none,
        custom_encoder or {},
        sqlalchemy_safe,
    )
    return _encode(obj, include, exclude, options)


def _custom(obj: Any, custom: Mapping[Any, _Encoder]) -> tuple[bool, Any]:
    encoder = custom.get(type(obj))
    if encoder is not None:
        return True, encoder(obj)
    for kind, function in custom.items():
        if isinstance(obj, kind):
            return True, function(obj)
    return False, None


def _encode(obj: Any, include: Any, exclude: Any, options: _Options) -> Any:
    if options.custom:
        found, value = _custom(obj, options.custom)
        if found:
            return value
    if include is not None and not isinstance(include, (set, dict)):
        include = set(include)
    if exclude is not None and not isinstance(exclude, (set, dict)):
        exclude = set(exclude)
    if _pydantic_model(obj):
        return _encode_model(obj, include, exclude, options)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return _encode(dataclasses.asdict(obj), include, exclude, options)
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, PurePath):
        return str(obj)
    if obj is None or isinstance(obj, (str, int, float)):
        return obj
    if isinstance(obj, dict):
        return _encode_dict(obj, include, exclude, options)
    if isinstance(obj, _SEQUENCES):
        return [_encode(item, include, exclude, options) for item in obj]
    return _encode_other(obj, include, exclude, options)


def _encode_model(obj: Any, include: Any, exclude: Any, options: _Options) -> Any:
    data = obj.model_dump(
        mode="json",
        include=include,
        exclude=exclude,
        by_alias=options.by_alias,
        exclude_unset=options.exclude_unset,
        exclude_none=options.exclude_none,
        exclude_defaults=options.exclude_defaults,
    )
    # The custom encoders were for the model's own fields, already dumped: drop them.
    plain = _Options(True, False, options.exclude_defaults, options.exclude_none, {}, options.sa)
    return _encode(data, None, None, plain)


def _encode_dict(obj: dict[Any, Any], include: Any, exclude: Any, options: _Options) -> Any:
    allowed: Collection[Any] = obj.keys()
    if include is not None or exclude is not None:
        keys = set(obj)
        if include is not None:
            keys &= set(include)
        if exclude is not None:
            keys -= set(exclude)
        allowed = keys
    encoded = {}
    for key, value in obj.items():
        if options.sa and isinstance(key, str) and key.startswith("_sa"):
            continue
        if (value is None and options.exclude_none) or key not in allowed:
            continue
        encoded[_encode(key, None, None, options)] = _encode(value, None, None, options)
    return encoded


def _encode_other(obj: Any, include: Any, exclude: Any, options: _Options) -> Any:
    encoder = ENCODERS_BY_TYPE.get(type(obj))
    if encoder is not None:
        return encoder(obj)
    for kind, function in ENCODERS_BY_TYPE.items():
        if isinstance(obj, kind):
            return function(obj)
    if type(obj).__name__ == "PydanticUndefinedType":
        return None
    errors: list[Exception] = []
    try:
        data = dict(obj)
    except Exception as exc:
        errors.append(exc)
        try:
            data = vars(obj)
        except Exception as second:
            errors.append(second)
            raise ValueError(errors) from second
    return _encode(data, include, exclude, options)
