"""HTTP responses, which are ASGI apps; in a WebSocket scope they are denial responses.

Sent in a ``websocket`` scope (before accept), every response renames its messages to
``websocket.http.response.start`` / ``websocket.http.response.body`` (ASGI WebSocket Denial
Response extension), so the client sees a real HTTP status instead of a bare 403.
Background tasks run after the last body message in both scopes.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.cookies
import mimetypes
import os
import stat
from collections.abc import AsyncIterable, Iterable, Mapping
from datetime import datetime
from email.utils import format_datetime, formatdate
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from tether import _json
from tether.background import BackgroundTask
from tether.concurrency import iterate_in_threadpool, run_in_threadpool
from tether.datastructures import URL, MutableHeaders
from tether.types import Receive, Scope, Send

__all__ = [
    "EventSourceResponse",
    "FileResponse",
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
]

_NO_BODY_STATUSES = frozenset({204, 304})


def _message_prefix(scope: Scope) -> str:
    return "websocket." if scope["type"] == "websocket" else ""


class Response:
    """A response with a body known up front.

    ``content`` is rendered to bytes by :meth:`render` (``str`` is encoded with ``charset``).
    ``content-length`` and ``content-type`` are added unless given in ``headers``.
    """

    media_type: str | None = None
    charset = "utf-8"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.body = self.render(content)
        self.init_headers(headers)

    def render(self, content: Any) -> bytes:
        """Turn ``content`` into body bytes (None gives ``b""``)."""
        if content is None:
            return b""
        if isinstance(content, bytes | memoryview):
            return bytes(content)
        return str(content).encode(self.charset)

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        """Build ``raw_headers`` from ``headers`` plus content-length and content-type."""
        raw = [] if headers is None else MutableHeaders(headers).raw
        names = {name for name, _ in raw}
        body = getattr(self, "body", None)
        if (
            body is not None
            and b"content-length" not in names
            and not (self.status_code < 200 or self.status_code in _NO_BODY_STATUSES)
        ):
            raw.append((b"content-length", str(len(body)).encode("latin-1")))
        content_type = self.media_type
        if content_type is not None and b"content-type" not in names:
            if content_type.startswith("text/") and "charset=" not in content_type.lower():
                content_type += "; charset=" + self.charset
            raw.append((b"content-type", content_type.encode("latin-1")))
        self.raw_headers = raw

    @property
    def headers(self) -> MutableHeaders:
        """The response headers; changes apply to what is sent."""
        return MutableHeaders(raw=self.raw_headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header (RFC 6265).

        Raises:
            ValueError: ``samesite`` is not "lax", "strict" or "none".
        """
        cookie: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
        cookie[key] = value
        morsel = cookie[key]
        if max_age is not None:
            morsel["max-age"] = max_age
        if expires is not None:
            morsel["expires"] = (
                format_datetime(expires, usegmt=True) if isinstance(expires, datetime) else expires
            )
        if path is not None:
            morsel["path"] = path
        if domain is not None:
            morsel["domain"] = domain
        if secure:
            morsel["secure"] = True
        if httponly:
            morsel["httponly"] = True
        if samesite is not None:
            if samesite.lower() not in ("strict", "lax", "none"):
                raise ValueError('samesite must be "strict", "lax" or "none"')
            morsel["samesite"] = samesite
        if partitioned:
            morsel["partitioned"] = True
        self.raw_headers.append((b"set-cookie", cookie.output(header="").strip().encode()))

    def delete_cookie(
        self,
        key: str,
        path: str = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: Literal["lax", "strict", "none"] | None = "lax",
    ) -> None:
        """Expire the cookie ``key`` in the browser."""
        self.set_cookie(
            key,
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prefix = _message_prefix(scope)
        await send(
            {
                "type": prefix + "http.response.start",
                "status": self.status_code,
                "headers": self.raw_headers,
            }
        )
        await send({"type": prefix + "http.response.body", "body": self.body})
        if self.background is not None:
            await self.background()


class HTMLResponse(Response):
    """A ``text/html`` response."""

    media_type = "text/html"


class PlainTextResponse(Response):
    """A ``text/plain`` response."""

    media_type = "text/plain"


class JSONResponse(Response):
    """An ``application/json`` response, compact, non-ASCII kept (see :mod:`tether._json`)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Encode ``content`` as JSON (TypeError if it cannot be)."""
        return _json.dumps_bytes(content)


class RedirectResponse(Response):
    """A redirect (307 by default) to ``url``, percent-encoded as needed."""

    def __init__(
        self,
        url: str | URL,
        status_code: int = 307,
        headers: Mapping[str, str] | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        super().__init__(
            content=b"", status_code=status_code, headers=headers, background=background
        )
        location = quote(str(url), safe=":/%#?=@[]!$&'()*+,;")
        self.headers["location"] = location


ContentStream = AsyncIterable[str | bytes] | Iterable[str | bytes]


class StreamingResponse(Response):
    """A response whose body comes from an (async) iterable of ``str``/``bytes`` chunks.

    In an HTTP scope it stops when the client disconnects. In a WebSocket scope (a denial) it
    streams without listening, one body message per chunk and a final empty one.
    """

    body_iterator: AsyncIterable[str | bytes]

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        if isinstance(content, AsyncIterable):
            self.body_iterator = content
        else:
            self.body_iterator = iterate_in_threadpool(content)
        self.status_code = status_code
        if media_type is not None:
            self.media_type = media_type
        self.background = background
        self.init_headers(headers)

    async def _stream(self, prefix: str, send: Send) -> None:
        await send(
            {
                "type": prefix + "http.response.start",
                "status": self.status_code,
                "headers": self.raw_headers,
            }
        )
        async for chunk in self.body_iterator:
            body = chunk.encode(self.charset) if isinstance(chunk, str) else chunk
            await send({"type": prefix + "http.response.body", "body": body, "more_body": True})
        await send({"type": prefix + "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._stream("websocket.", send)
        else:
            await _until_disconnect(self._stream("", send), receive)
        if self.background is not None:
            await self.background()


async def _until_disconnect(work: Any, receive: Receive) -> None:
    """Run ``work`` until it ends or the HTTP client disconnects, whichever is first."""
    work_task = asyncio.ensure_future(work)
    listener = asyncio.ensure_future(_wait_for_disconnect(receive))
    try:
        await asyncio.wait([work_task, listener], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (work_task, listener):
            if not task.done():
                task.cancel()
        await asyncio.wait([work_task, listener])
    if not work_task.cancelled():
        work_task.result()  # re-raise the stream's own error


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class FileResponse(Response):
    """Send a file from disk in chunks, with length, last-modified and etag headers.

    ``filename`` adds a ``content-disposition`` header. Range requests are not supported yet.

    Raises:
        RuntimeError: (when sent) the file does not exist or is not a regular file.
    """

    chunk_size = 64 * 1024

    def __init__(
        self,
        path: str | os.PathLike[str],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
        filename: str | None = None,
        stat_result: os.stat_result | None = None,
        method: str | None = None,
        content_disposition_type: str = "attachment",
    ) -> None:
        self.path = path
        self.status_code = status_code
        self.filename = filename
        self.send_header_only = method is not None and method.upper() == "HEAD"
        if media_type is None:
            media_type = mimetypes.guess_type(str(filename or path))[0] or "text/plain"
        self.media_type = media_type
        self.background = background
        self.init_headers(headers)
        if filename is not None:
            self.headers.setdefault(
                "content-disposition", _content_disposition(content_disposition_type, filename)
            )
        self.stat_result = stat_result
        if stat_result is not None:
            self._set_stat_headers(stat_result)

    def _set_stat_headers(self, stat_result: os.stat_result) -> None:
        etag_base = f"{stat_result.st_mtime}-{stat_result.st_size}"
        etag = f'"{hashlib.md5(etag_base.encode(), usedforsecurity=False).hexdigest()}"'
        headers = self.headers
        headers.setdefault("content-length", str(stat_result.st_size))
        headers.setdefault("last-modified", formatdate(stat_result.st_mtime, usegmt=True))
        headers.setdefault("etag", etag)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.stat_result is None:
            self.stat_result = await run_in_threadpool(_stat_file, self.path)
            self._set_stat_headers(self.stat_result)
        prefix = _message_prefix(scope)
        await send(
            {
                "type": prefix + "http.response.start",
                "status": self.status_code,
                "headers": self.raw_headers,
            }
        )
        # A denial response always carries its body (no header-only sending over WebSocket).
        if self.send_header_only and not prefix:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        else:
            await self._send_file(prefix, send)
        if self.background is not None:
            await self.background()

    async def _send_file(self, prefix: str, send: Send) -> None:
        with open(self.path, "rb") as file:  # noqa: ASYNC230 - reads go through the pool
            more_body = True
            while more_body:
                chunk = await run_in_threadpool(file.read, self.chunk_size)
                more_body = len(chunk) == self.chunk_size
                await send(
                    {"type": prefix + "http.response.body", "body": chunk, "more_body": more_body}
                )


def _stat_file(path: str | os.PathLike[str]) -> os.stat_result:
    try:
        result = os.stat(path)
    except FileNotFoundError:
        raise RuntimeError(f"FileResponse: no file at {os.fspath(path)!r}") from None
    if not stat.S_ISREG(result.st_mode):
        raise RuntimeError(f"FileResponse: {os.fspath(path)!r} is not a regular file")
    return result


def _content_disposition(kind: str, filename: str) -> str:
    quoted = quote(filename)
    if quoted != filename:  # RFC 6266 section 4.3: non-ASCII names go in filename*
        return f"{kind}; filename*=utf-8''{quoted}"
    return f'{kind}; filename="{filename}"'


if TYPE_CHECKING:
    from tether.streams.responses import EventSourceResponse
else:

    def __getattr__(name: str) -> Any:
        # ``fastapi.responses`` exports EventSourceResponse too. It is defined in
        # tether.streams, which builds on this module, so it is looked up on first use.
        if name == "EventSourceResponse":
            from tether.streams.responses import EventSourceResponse

            return EventSourceResponse
        raise AttributeError(f"module 'tether.responses' has no attribute {name!r}")
