"""Starlette's tests/test_templates.py, written as the peer writes them (imports renamed)."""

from pathlib import Path

import jinja2
import pytest

from tether import Tether as Starlette
from tether.background import BackgroundTask
from tether.middleware import Middleware
from tether.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from tether.requests import Request
from tether.responses import Response
from tether.routing import Route
from tether.templating import Jinja2Templates
from tether.testclient import TestClient

PAGE = "<html>Hello, <a href='{{ url_for('homepage') }}'>world</a></html>"


def test_templates(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(PAGE)

    async def homepage(request: Request) -> Response:
        return templates.TemplateResponse(request, "index.html")

    app = Starlette(debug=True, routes=[Route("/", endpoint=homepage)])
    templates = Jinja2Templates(directory=str(tmp_path))
    response = TestClient(app).get("/")
    assert response.text == "<html>Hello, <a href='http://testserver/'>world</a></html>"
    assert response.template.name == "index.html"
    assert set(response.context.keys()) == {"request"}


def test_calls_context_processors(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html>Hello {{ username }}</html>")

    async def homepage(request: Request) -> Response:
        return templates.TemplateResponse(request, "index.html")

    def hello_world_processor(request: Request) -> dict[str, str]:
        return {"username": "World"}

    app = Starlette(routes=[Route("/", endpoint=homepage)])
    templates = Jinja2Templates(directory=tmp_path, context_processors=[hello_world_processor])
    response = TestClient(app).get("/")
    assert response.text == "<html>Hello World</html>"
    assert set(response.context.keys()) == {"request", "username"}


def test_template_with_middleware(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(PAGE)

    async def homepage(request: Request) -> Response:
        return templates.TemplateResponse(request, "index.html")

    class CustomMiddleware(BaseHTTPMiddleware):
        async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
            return await call_next(request)

    app = Starlette(
        routes=[Route("/", endpoint=homepage)], middleware=[Middleware(CustomMiddleware)]
    )
    templates = Jinja2Templates(directory=str(tmp_path))
    response = TestClient(app).get("/")
    assert response.text == "<html>Hello, <a href='http://testserver/'>world</a></html>"
    assert response.template.name == "index.html"
    assert set(response.context.keys()) == {"request"}


def test_templates_with_directories(tmp_path: Path) -> None:
    dir_a, dir_b = tmp_path / "a", tmp_path / "b"
    dir_a.mkdir()
    dir_b.mkdir()
    (dir_a / "template_a.html").write_text("<html><a href='{{ url_for('page_a') }}'></a> a</html>")
    (dir_b / "template_b.html").write_text("<html><a href='{{ url_for('page_b') }}'></a> b</html>")

    async def page_a(request: Request) -> Response:
        return templates.TemplateResponse(request, "template_a.html")

    async def page_b(request: Request) -> Response:
        return templates.TemplateResponse(request, "template_b.html")

    app = Starlette(routes=[Route("/a", endpoint=page_a), Route("/b", endpoint=page_b)])
    templates = Jinja2Templates(directory=[dir_a, dir_b])
    client = TestClient(app)
    assert client.get("/a").text == "<html><a href='http://testserver/a'></a> a</html>"
    assert client.get("/b").template.name == "template_b.html"


def test_templates_require_directory_or_environment() -> None:
    with pytest.raises(
        AssertionError, match="either 'directory' or 'env' arguments must be passed"
    ):
        Jinja2Templates()
    with pytest.raises(
        AssertionError, match="either 'directory' or 'env' arguments must be passed"
    ):
        Jinja2Templates(directory="dir", env=jinja2.Environment())


def test_templates_with_environment(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(PAGE)

    async def homepage(request: Request) -> Response:
        return templates.TemplateResponse(request, "index.html")

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(tmp_path)))
    app = Starlette(routes=[Route("/", endpoint=homepage)])
    templates = Jinja2Templates(env=env)
    response = TestClient(app).get("/")
    assert response.text == "<html>Hello, <a href='http://testserver/'>world</a></html>"


def test_templates_with_environment_options_emit_warning(tmp_path: Path) -> None:
    with pytest.warns(DeprecationWarning):
        Jinja2Templates(str(tmp_path), autoescape=True)


def test_templates_with_kwargs_only(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("value: {{ a }}")
    templates = Jinja2Templates(directory=str(tmp_path))
    spy = []

    def page(request: Request) -> Response:
        return templates.TemplateResponse(
            request=request,
            name="index.html",
            context={"a": "b"},
            status_code=201,
            headers={"x-key": "value"},
            media_type="text/plain",
            background=BackgroundTask(spy.append, "called"),
        )

    response = TestClient(Starlette(routes=[Route("/", page)])).get("/")
    assert response.text == "value: b"
    assert response.status_code == 201
    assert response.headers["x-key"] == "value"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert spy == ["called"]


def test_templates_with_kwargs_only_requires_request_in_context(tmp_path: Path) -> None:
    templates = Jinja2Templates(directory=str(tmp_path))
    with pytest.warns(DeprecationWarning):
        with pytest.raises(ValueError):
            templates.TemplateResponse(name="index.html", context={"a": "b"})


def test_templates_warns_when_first_argument_is_not_request(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("value: {{ a }}")
    templates = Jinja2Templates(directory=str(tmp_path))

    def page(request: Request) -> Response:
        return templates.TemplateResponse(
            "index.html", {"a": "b", "request": request}, 201, {"x-key": "value"}, "text/plain"
        )

    with pytest.warns(DeprecationWarning):
        response = TestClient(Starlette(routes=[Route("/", page)])).get("/")
    assert response.text == "value: b"
    assert response.status_code == 201
    assert response.headers["x-key"] == "value"
