"""``StaticFiles``: serve a directory (or packages' ``statics`` folders), as Starlette's does.

Mount it: ``app.mount("/static", StaticFiles(directory="static"), name="static")``.

* ``GET`` and ``HEAD`` only (405 otherwise); a missing file is ``HTTPException(404)``, and a
  file the process may not read ``HTTPException(401)``, as the peer answers;
* ``If-None-Match`` / ``If-Modified-Since`` give ``304 Not Modified`` (RFC 9110 section 13);
* ``html=True`` serves ``index.html`` for a directory (redirecting ``/dir`` to ``/dir/``) and
  ``404.html`` for a missing file;
* a path that leaves the directory (``..``, or a symlink pointing out unless
  ``follow_symlink=True``) is not found.

A WebSocket handshake that reaches it is refused with a 404 denial (the peer asserts on it).
Disk access runs in worker threads.
"""

from __future__ import annotations

import errno
import importlib.util
import os
import stat
from collections.abc import Mapping, Sequence
from email.utils import parsedate
from typing import Final

from tether.concurrency import run_in_threadpool
from tether.datastructures import URL, Headers
from tether.exceptions import HTTPException
from tether.responses import FileResponse, RedirectResponse, Response
from tether.routing import get_route_path
from tether.types import Receive, Scope, Send

__all__ = ["NotModifiedResponse", "PathLike", "StaticFiles"]

PathLike = str | os.PathLike[str]
"""A directory given as a string or a path object."""

_Stat = tuple[str, os.stat_result | None]


class NotModifiedResponse(Response):
    """``304 Not Modified``, keeping only the headers RFC 9110 section 15.4.5 allows."""

    NOT_MODIFIED_HEADERS: Final = (
        "cache-control",
        "content-location",
        "date",
        "etag",
        "expires",
        "vary",
    )

    def __init__(self, headers: Mapping[str, str]) -> None:
        kept = {name: value for name, value in headers.items() if name in self.NOT_MODIFIED_HEADERS}
        super().__init__(status_code=304, headers=kept)


def _package_directory(package: str | tuple[str, str]) -> str:
    name, folder = package if isinstance(package, tuple) else (package, "statics")
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"StaticFiles: package {name!r} could not be found")
    directory = os.path.normpath(os.path.join(spec.origin, "..", folder))
    if not os.path.isdir(directory):
        raise RuntimeError(f"StaticFiles: package {name!r} has no directory {folder!r}")
    return directory


class StaticFiles:
    """An ASGI app serving files below ``directory`` and the packages' folders.

    Raises:
        RuntimeError: (at construction, with ``check_dir``) ``directory`` does not exist;
            (on the first request) it is not a directory; a package cannot be found.
    """

    def __init__(
        self,
        *,
        directory: PathLike | None = None,
        packages: Sequence[str | tuple[str, str]] | None = None,
        html: bool = False,
        check_dir: bool = True,
        follow_symlink: bool = False,
    ) -> None:
        self.directory = directory
        self.packages = packages
        self.all_directories = self.get_directories(directory, packages)
        self.html = html
        self.config_checked = False
        self.follow_symlink = follow_symlink
        if check_dir and directory is not None and not os.path.isdir(directory):
            raise RuntimeError(f"Directory '{directory}' does not exist")

    def get_directories(
        self,
        directory: PathLike | None = None,
        packages: Sequence[str | tuple[str, str]] | None = None,
    ) -> list[PathLike]:
        """``directory`` first, then each package's folder (``statics`` unless named)."""
        found: list[PathLike] = [] if directory is None else [directory]
        found.extend(_package_directory(package) for package in packages or ())
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise HTTPException(404)  # a handshake for a file: refused with a 404 denial
        if not self.config_checked:
            await self.check_config()
            self.config_checked = True
        response = await self.get_response(self.get_path(scope), scope)
        await response(scope, receive, send)

    def get_path(self, scope: Scope) -> str:
        """The requested path below the mount, normalised for the file system."""
        return os.path.normpath(os.path.join(*get_route_path(scope).split("/")))

    async def get_response(self, path: str, scope: Scope) -> Response:
        """The response for ``path``: the file, a redirect, 304, or ``HTTPException``."""
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(405)
        full_path, stat_result = await self._lookup(path)
        if stat_result is not None and stat.S_ISREG(stat_result.st_mode):
            return self.file_response(full_path, stat_result, scope)
        if stat_result is not None and stat.S_ISDIR(stat_result.st_mode) and self.html:
            index = await self._index(path, scope)
            if index is not None:
                return index
        if self.html:
            full_path, stat_result = await self._lookup("404.html")
            if stat_result is not None and stat.S_ISREG(stat_result.st_mode):
                return FileResponse(full_path, stat_result=stat_result, status_code=404)
        raise HTTPException(404)

    async def _index(self, path: str, scope: Scope) -> Response | None:
        full_path, stat_result = await self._lookup(os.path.join(path, "index.html"))
        if stat_result is None or not stat.S_ISREG(stat_result.st_mode):
            return None
        if not scope["path"].endswith("/"):
            url = URL(scope=scope)
            return RedirectResponse(url=str(url.replace(path=url.path + "/")))
        return self.file_response(full_path, stat_result, scope)

    async def _lookup(self, path: str) -> _Stat:
        try:
            return await run_in_threadpool(self.lookup_path, path)
        except PermissionError:
            raise HTTPException(401) from None
        except OSError as exc:
            if exc.errno == errno.ENAMETOOLONG:
                raise HTTPException(404) from None
            raise

    def lookup_path(self, path: str) -> _Stat:
        """``(full path, stat)`` of the first directory holding ``path``; ``("", None)`` if none.

        A path resolving outside its directory is skipped, so ``..`` cannot escape.
        """
        for directory in self.all_directories:
            joined = os.path.join(directory, path)
            if self.follow_symlink:
                full_path, root = os.path.abspath(joined), os.path.abspath(directory)
            else:
                full_path, root = os.path.realpath(joined), os.path.realpath(directory)
            if os.path.commonpath([full_path, root]) != str(root):
                continue
            try:
                return full_path, os.stat(full_path)
            except (FileNotFoundError, NotADirectoryError):
                continue
        return "", None

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        """The file, or ``304`` when the client's copy is current."""
        response = FileResponse(
            full_path, status_code=status_code, stat_result=stat_result, method=scope["method"]
        )
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response

    async def check_config(self) -> None:
        """Check once, on the first request, that ``directory`` is a directory."""
        if self.directory is None:
            return
        try:
            stat_result = await run_in_threadpool(os.stat, self.directory)
        except FileNotFoundError:
            raise RuntimeError(
                f"StaticFiles directory '{self.directory}' does not exist."
            ) from None
        if not (stat.S_ISDIR(stat_result.st_mode) or stat.S_ISLNK(stat_result.st_mode)):
            raise RuntimeError(f"StaticFiles path '{self.directory}' is not a directory.")

    def is_not_modified(
        self, response_headers: Mapping[str, str], request_headers: Mapping[str, str]
    ) -> bool:
        """Whether the request's validators match the file (RFC 9110 section 13.1)."""
        if_none_match = request_headers.get("if-none-match")
        etag = response_headers.get("etag")
        tags = [] if if_none_match is None else [t.strip(" W/") for t in if_none_match.split(",")]
        if etag is not None and etag in tags:
            return True
        since = request_headers.get("if-modified-since")
        modified = response_headers.get("last-modified")
        if since is None or modified is None:
            return False
        since_tuple, modified_tuple = parsedate(since), parsedate(modified)
        return (
            since_tuple is not None and modified_tuple is not None and since_tuple >= modified_tuple
        )
