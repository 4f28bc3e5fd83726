"""Plain data used by connections: URLs, headers, query strings, forms, state.

No I/O happens here. The shapes and names are the ones users know from Starlette (``URL``,
``URLPath``, ``Headers``, ``MutableHeaders``, ``QueryParams``, ``ImmutableMultiDict``,
``MultiDict``, ``FormData``, ``State``, ``Address``, ``Secret``, ``CommaSeparatedStrings``, ``UploadFile``).
This package is their public home; the code lives in one module per theme: :mod:`.urls`,
:mod:`.headers`, :mod:`.multidict` and :mod:`.values`.

Owns: plain data structures. May import: :mod:`tether.types` and the standard library only.
"""

from __future__ import annotations

from tether.datastructures.headers import Headers, MutableHeaders
from tether.datastructures.multidict import FormData, ImmutableMultiDict, MultiDict
from tether.datastructures.uploads import UploadFile
from tether.datastructures.urls import URL, Address, QueryParams, URLPath
from tether.datastructures.values import CommaSeparatedStrings, Secret, State

__all__ = [
    "URL",
    "Address",
    "CommaSeparatedStrings",
    "FormData",
    "Headers",
    "ImmutableMultiDict",
    "MultiDict",
    "MutableHeaders",
    "QueryParams",
    "Secret",
    "State",
    "URLPath",
    "UploadFile",
]
