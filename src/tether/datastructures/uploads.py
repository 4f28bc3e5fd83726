"""``UploadFile``: one file of a ``multipart/form-data`` body (Starlette's and FastAPI's class).

The content lives in a :class:`tempfile.SpooledTemporaryFile`: in memory up to a size, then on
disk. The async methods run file I/O in the thread pool once the file has rolled over to disk
(in-memory reads and writes cannot block). For pydantic (response models, the OpenAPI
document) the type validates instances of itself and documents as a binary string.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from tether.datastructures.headers import Headers

__all__ = ["UploadFile"]


class UploadFile:
    """An uploaded file: ``filename``, ``size``, ``headers``, ``content_type`` and ``file``."""

    def __init__(
        self,
        file: IO[bytes],
        *,
        size: int | None = None,
        filename: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.filename = filename
        self.file = file
        self.size = size
        self.headers = headers or Headers()

    @property
    def content_type(self) -> str | None:
        """The part's ``Content-Type`` header, if it had one."""
        return self.headers.get("content-type", None)

    @property
    def _in_memory(self) -> bool:
        rolled = getattr(self.file, "_rolled", True)
        return not rolled

    async def _io(self, func: Callable[..., Any], *args: Any) -> Any:
        if self._in_memory:
            return func(*args)
        return await asyncio.to_thread(func, *args)

    async def write(self, data: bytes) -> None:
        """Append ``data`` (and count it in ``size``)."""
        if self.size is not None:
            self.size += len(data)
        await self._io(self.file.write, data)

    async def read(self, size: int = -1) -> bytes:
        """Read up to ``size`` bytes (all by default) from the current position."""
        data: bytes = await self._io(self.file.read, size)
        return data

    async def seek(self, offset: int) -> None:
        """Move to ``offset``."""
        await self._io(self.file.seek, offset)

    async def close(self) -> None:
        """Close the file (a spooled file on disk is deleted)."""
        await self._io(self.file.close)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(filename={self.filename!r}, size={self.size!r}, headers={self.headers!r})"

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        def validate(value: Any) -> UploadFile:
            if not isinstance(value, UploadFile):
                raise ValueError(f"Expected UploadFile, received: {type(value)}")
            return value

        return core_schema.no_info_plain_validator_function(validate)

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        return {"type": "string", "contentMediaType": "application/octet-stream"}


def spooled_file(max_size: int) -> SpooledTemporaryFile[bytes]:
    """A new spooled temporary file kept in memory up to ``max_size`` bytes."""
    return SpooledTemporaryFile(max_size=max_size)


def part_headers(raw: list[tuple[bytes, bytes]]) -> Headers:
    """Headers of one multipart part."""
    return Headers(raw=[(name.lower(), value) for name, value in raw])
