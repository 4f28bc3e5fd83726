"""Form bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

URL-encoded forms are parsed with the standard library. Multipart bodies are parsed as they
stream in by ``python-multipart`` (extra ``tether[multipart]``, imported on the first multipart
body): fields are collected in memory, files are written to spooled temporary files
(:class:`~tether.datastructures.UploadFile`, in memory up to ``spool_max_size``, then on disk).

Limits (:class:`FormLimits`) are checked while parsing, so nothing past a limit is read into
memory or onto disk: more than ``max_fields`` fields or ``max_files`` files is refused with
422, a field over ``max_part_size`` bytes with 413 (the whole body's size is the route's
``max_body_size``, checked by :meth:`tether.requests.Request.stream`). On any error every file
created so far is closed (and so deleted): nothing half-written stays behind. Starlette answers
400 for all of these (docs/compat.md).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

from tether.datastructures import FormData, Headers, UploadFile
from tether.datastructures.uploads import part_headers, spooled_file
from tether.exceptions import HTTPException, MissingDependencyError

__all__ = ["FormLimits", "MultiPartException", "parse_form"]


@dataclasses.dataclass(frozen=True)
class FormLimits:
    """How much of a form is accepted (Starlette's defaults)."""

    max_files: int | float = 1000
    max_fields: int | float = 1000
    max_part_size: int = 1024 * 1024
    spool_max_size: int = 1024 * 1024


class MultiPartException(HTTPException):
    """A form body that cannot be parsed or goes past a limit (an HTTP error response)."""


def _multipart() -> Any:
    try:
        import python_multipart
    except ImportError:  # pragma: no cover - depends on the installed extra
        raise MissingDependencyError("python-multipart", "multipart") from None
    return python_multipart


async def parse_form(
    headers: Headers, stream: AsyncIterator[bytes], limits: FormLimits
) -> FormData:
    """Parse a form body from ``stream``; raises :class:`MultiPartException`."""
    content_type = headers.get("content-type", "")
    media_type, _, params = content_type.partition(";")
    media_type = media_type.strip().lower()
    if media_type == "multipart/form-data":
        return await _MultipartReader(params, limits).read(stream)
    if media_type != "application/x-www-form-urlencoded":
        return FormData([])
    body = b"".join([chunk async for chunk in stream])
    fields = parse_qsl(body.decode("latin-1"), keep_blank_values=True, errors="replace")
    if len(fields) > limits.max_fields:
        raise MultiPartException(422, f"too many form fields (at most {limits.max_fields})")
    return FormData(fields)


class _Part:
    __slots__ = ("data", "file", "headers", "name")

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.name = ""
        self.data = bytearray()
        self.file: UploadFile | None = None


class _MultipartReader:
    """One multipart body: python-multipart's callbacks fill parts; files are written after."""

    def __init__(self, params: str, limits: FormLimits) -> None:
        self.module = _multipart()
        self.limits = limits
        self.boundary = self._boundary(params)
        self.items: list[tuple[str, Any]] = []
        self.files: list[UploadFile] = []
        self.fields = 0
        self.part = _Part()
        self.header_name = b""
        self.header_value = b""
        self.pending: list[tuple[UploadFile, bytes]] = []

    def _boundary(self, params: str) -> bytes:
        _, options = self.module.multipart.parse_options_header("x;" + params)
        boundary = options.get(b"boundary")
        if not boundary:
            raise MultiPartException(400, "the multipart body has no boundary")
        return bytes(boundary)

    async def read(self, stream: AsyncIterator[bytes]) -> FormData:
        callbacks = {
            "on_part_begin": self._part_begin,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
        }
        parser = self.module.MultipartParser(self.boundary, callbacks)
        try:
            async for chunk in stream:
                parser.write(chunk)
                await self._flush()
            parser.finalize()
            await self._flush()
        except BaseException as exc:
            for upload in self.files:
                await upload.close()
            if isinstance(exc, self.module.exceptions.MultipartParseError):
                raise MultiPartException(400, "the multipart body is malformed") from None
            raise
        for upload in self.files:
            await upload.seek(0)
        return FormData(self.items)

    async def _flush(self) -> None:
        # File data is written outside the parser's synchronous callbacks (it may hit disk).
        pending, self.pending = self.pending, []
        for upload, data in pending:
            await upload.write(data)

    def _part_begin(self) -> None:
        self.part = _Part()

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        part = self.part
        if part.file is not None:
            self.pending.append((part.file, data[start:end]))
            return
        if len(part.data) + end - start > self.limits.max_part_size:
            raise MultiPartException(
                413, f"a form field is larger than {self.limits.max_part_size} bytes"
            )
        part.data.extend(data[start:end])

    def _part_end(self) -> None:
        part = self.part
        if part.file is not None:
            self.items.append((part.name, part.file))
        else:
            self.items.append((part.name, part.data.decode("utf-8", errors="replace")))

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def _header_end(self) -> None:
        self.part.headers.append((self.header_name.lower(), self.header_value))
        self.header_name = self.header_value = b""

    def _headers_finished(self) -> None:
        part = self.part
        disposition = dict(part.headers).get(b"content-disposition", b"")
        _, options = self.module.multipart.parse_options_header(disposition)
        name = options.get(b"name")
        if name is None:
            raise MultiPartException(400, "a form part has no name in its Content-Disposition")
        part.name = name.decode("utf-8", errors="replace")
        filename = options.get(b"filename")
        if filename is None:
            self.fields += 1
            if self.fields > self.limits.max_fields:
                raise MultiPartException(
                    422, f"too many form fields (at most {self.limits.max_fields})"
                )
            return
        if len(self.files) >= self.limits.max_files:
            raise MultiPartException(422, f"too many files (at most {self.limits.max_files})")
        part.file = UploadFile(
            spooled_file(self.limits.spool_max_size),
            size=0,
            filename=filename.decode("utf-8", errors="replace"),
            headers=part_headers(part.headers),
        )
        self.files.append(part.file)
