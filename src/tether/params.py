"""Parameter markers: ``Depends``, ``Security``, ``Path``, ``Query``, ``Header``, ``Cookie``, ``Body``.

The public face (FastAPI's ``params``) of :mod:`tether.dependencies.params`, where the code lives.
"""

from __future__ import annotations

from tether.dependencies.params import (
    Body,
    BodyInfo,
    Cookie,
    CookieInfo,
    DependencyScope,
    Depends,
    DependsInfo,
    File,
    FileInfo,
    Form,
    FormInfo,
    Header,
    HeaderInfo,
    Param,
    ParamInfo,
    Path,
    PathInfo,
    Query,
    QueryInfo,
    Required,
    Security,
    SecurityInfo,
)

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
