"""tether: a WebSocket-first framework for real-time Python web applications.

The names here match what ``fastapi`` exports for the same features, so
``from fastapi import FastAPI, WebSocket, Depends`` becomes
``from tether import Tether, WebSocket, Depends``.
"""

from __future__ import annotations

from tether import status
from tether.applications import Router, Tether
from tether.background import BackgroundTasks
from tether.datastructures import UploadFile
from tether.dependencies.params import (
    Body,
    Cookie,
    Depends,
    File,
    Form,
    Header,
    Path,
    Query,
    Security,
)
from tether.exceptions import HTTPException, WebSocketException
from tether.requests import HTTPConnection, Request
from tether.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from tether.websockets import WebSocket, WebSocketDisconnect, WebSocketState

APIRouter = Router
"""FastAPI's name for :class:`~tether.applications.Router` (the same class)."""

__version__ = "0.1.0"

__all__ = [
    "APIRouter",
    "BackgroundTasks",
    "Body",
    "Cookie",
    "Depends",
    "File",
    "FileResponse",
    "Form",
    "HTMLResponse",
    "HTTPConnection",
    "HTTPException",
    "Header",
    "JSONResponse",
    "Path",
    "PlainTextResponse",
    "Query",
    "RedirectResponse",
    "Request",
    "Response",
    "Router",
    "Security",
    "StreamingResponse",
    "Tether",
    "UploadFile",
    "WebSocket",
    "WebSocketDisconnect",
    "WebSocketException",
    "WebSocketState",
    "status",
]
