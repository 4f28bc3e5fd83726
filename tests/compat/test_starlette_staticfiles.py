"""Starlette's tests/test_staticfiles.py, written as the peer writes them (imports renamed)."""

import asyncio
import os
import time
from pathlib import Path

import pytest

from tether import Tether as Starlette
from tether.exceptions import HTTPException
from tether.middleware import Middleware
from tether.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from tether.requests import Request
from tether.responses import Response
from tether.routing import Mount
from tether.staticfiles import StaticFiles
from tether.testclient import TestClient, WebSocketDenialResponse


def write(directory, name, content="<file content>"):
    path = os.path.join(directory, name)
    with open(path, "w") as file:
        file.write(content)
    return path


def test_staticfiles(tmp_path: Path) -> None:
    write(tmp_path, "example.txt")
    client = TestClient(StaticFiles(directory=str(tmp_path)))
    response = client.get("/example.txt")
    assert response.status_code == 200
    assert response.text == "<file content>"
    client = TestClient(StaticFiles(directory=tmp_path))
    assert client.get("/example.txt").text == "<file content>"


def test_staticfiles_head_with_middleware(tmp_path: Path) -> None:
    write(tmp_path, "example.txt", "x" * 100)

    async def does_nothing_middleware(
        request: Request, call_next: RequestResponseEndpoint
    ) -> Response:
        return await call_next(request)

    routes = [Mount("/static", app=StaticFiles(directory=tmp_path), name="static")]
    middleware = [Middleware(BaseHTTPMiddleware, dispatch=does_nothing_middleware)]
    client = TestClient(Starlette(routes=routes, middleware=middleware))
    response = client.head("/static/example.txt")
    assert response.status_code == 200
    assert response.headers.get("content-length") == "100"
    assert response.content == b""


def test_staticfiles_with_package() -> None:
    client = TestClient(StaticFiles(packages=[("tether", "static")]))
    listing = os.listdir(os.path.join(os.path.dirname(__import__("tether").__file__), "static"))
    name = next(entry for entry in sorted(listing) if "." in entry)
    assert client.get(f"/{name}").status_code == 200


def test_staticfiles_post_directory_and_missing_file(tmp_path: Path) -> None:
    write(tmp_path, "example.txt")
    app = Starlette(routes=[Mount("/", app=StaticFiles(directory=tmp_path), name="static")])
    client = TestClient(app)
    # Tether answers HTTPException as FastAPI does (JSON), where Starlette sends plain text.
    response = client.post("/example.txt")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    for path in ("/", "/404.txt", "/example.txt/foo", "/missing/example.txt"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not Found"}


def test_staticfiles_instantiated_with_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError) as exc_info:
        StaticFiles(directory=os.path.join(tmp_path, "no_such_directory"))
    assert "does not exist" in str(exc_info.value)


def test_staticfiles_configured_with_missing_directory_or_file(tmp_path: Path) -> None:
    app = StaticFiles(directory=os.path.join(tmp_path, "no_such_directory"), check_dir=False)
    with pytest.raises(RuntimeError) as exc_info:
        TestClient(app).get("/example.txt")
    assert "does not exist" in str(exc_info.value)
    app = StaticFiles(directory=write(tmp_path, "example.txt"), check_dir=False)
    with pytest.raises(RuntimeError) as exc_info:
        TestClient(app).get("/example.txt")
    assert "is not a directory" in str(exc_info.value)


def test_staticfiles_config_check_occurs_only_once(tmp_path: Path) -> None:
    app = StaticFiles(directory=tmp_path)
    client = TestClient(app)
    assert not app.config_checked
    with pytest.raises(HTTPException):
        client.get("/")
    assert app.config_checked
    with pytest.raises(HTTPException):
        client.get("/")


def test_staticfiles_prevents_breaking_out_of_directory(tmp_path: Path) -> None:
    directory = os.path.join(tmp_path, "foo")
    os.mkdir(directory)
    write(tmp_path, "example.txt", "outside root dir")
    app = StaticFiles(directory=directory)
    path = app.get_path({"path": "/../example.txt"})
    with pytest.raises(HTTPException) as exc_info:
        asyncio.run(app.get_response(path, {"method": "GET"}))
    assert exc_info.value.status_code == 404
    assert exc_info.value.detail == "Not Found"


def test_staticfiles_304_with_etag_and_last_modified(tmp_path: Path) -> None:
    write(tmp_path, "example.txt")
    client = TestClient(StaticFiles(directory=tmp_path))
    first = client.get("/example.txt")
    assert first.status_code == 200
    etag = first.headers["etag"]
    second = client.get("/example.txt", headers={"if-none-match": etag})
    assert second.status_code == 304
    assert second.content == b""
    assert client.get("/example.txt", headers={"if-none-match": '"123"'}).status_code == 200
    last_modified = first.headers["last-modified"]
    response = client.get("/example.txt", headers={"If-Modified-Since": last_modified})
    assert response.status_code == 304
    earlier = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(0))
    assert client.get("/example.txt", headers={"If-Modified-Since": earlier}).status_code == 200


def test_staticfiles_html_normal(tmp_path: Path) -> None:
    write(tmp_path, "404.html", "<h1>Custom not found page</h1>")
    os.mkdir(os.path.join(tmp_path, "dir"))
    write(os.path.join(tmp_path, "dir"), "index.html", "<h1>Hello</h1>")
    app = StaticFiles(directory=tmp_path, html=True)
    client = TestClient(app)

    response = client.get("/dir/")
    assert response.url == "http://testserver/dir/"
    assert response.status_code == 200
    assert response.text == "<h1>Hello</h1>"

    response = client.get("/dir")
    assert response.url == "http://testserver/dir/"
    assert response.status_code == 200
    assert response.text == "<h1>Hello</h1>"

    response = client.get("/dir/index.html")
    assert response.status_code == 200
    assert response.text == "<h1>Hello</h1>"

    response = client.get("/missing")
    assert response.status_code == 404
    assert response.text == "<h1>Custom not found page</h1>"


def test_staticfiles_follows_symlinks_only_inside(tmp_path: Path) -> None:
    statics = tmp_path / "statics"
    statics.mkdir()
    source = tmp_path / "source"
    source.mkdir()
    (source / "page.html").write_text("<h1>Hello</h1>")
    (statics / "index.html").symlink_to(source / "page.html")
    app = Starlette(routes=[Mount("/", app=StaticFiles(directory=statics))])
    assert TestClient(app).get("/index.html").status_code == 404
    client = TestClient(StaticFiles(directory=statics, follow_symlink=True))
    response = client.get("/index.html")
    assert response.status_code == 200
    assert response.text == "<h1>Hello</h1>"


def test_staticfiles_refuses_a_websocket_handshake(tmp_path: Path) -> None:
    # The peer asserts scope["type"] == "http"; tether answers with a 404 denial.
    app = Starlette(routes=[Mount("/static", app=StaticFiles(directory=tmp_path))])
    with pytest.raises(WebSocketDenialResponse) as denied:
        with TestClient(app).websocket_connect("/static/x"):
            pass
    assert denied.value.status_code == 404
