"""tether.applications.frontend: a built frontend served below every other route."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest

from tether.applications import Router, Tether
from tether.applications.frontend import FrontendFiles, accepts_page
from tether.background import BackgroundTasks
from tether.exceptions import HTTPException
from tether.params import Depends
from tether.requests import Request
from tether.responses import PlainTextResponse, Response
from tether.staticfiles import StaticFiles
from tether.testclient import TestClient, WebSocketDenialResponse
from tether.websockets import WebSocket

PAGE = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # what a browser sends


def build(root: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    return build(
        tmp_path / "dist",
        {
            "index.html": "<app shell>",
            "assets/app.js": "console.log(1)",
            "about/index.html": "<about>",
        },
    )


# -- files ---------------------------------------------------------------------------------


def test_files_are_served_with_static_files_validators(dist: Path) -> None:
    app = Tether()
    app.frontend("/", directory=dist)
    client = TestClient(app)

    response = client.get("/assets/app.js")
    assert response.status_code == 200
    assert response.text == "console.log(1)"
    assert response.headers["content-type"].startswith("text/javascript")
    etag = response.headers["etag"]
    assert response.headers["last-modified"]

    again = client.get("/assets/app.js", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""

    head = client.head("/assets/app.js")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len("console.log(1)"))


def test_root_and_directory_index_with_redirect(dist: Path) -> None:
    app = Tether()
    app.frontend("/", directory=dist)
    client = TestClient(app)

    assert client.get("/").text == "<app shell>"
    redirect = client.get("/about", follow_redirects=False)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == "http://testserver/about/"
    assert client.get("/about/").text == "<about>"


def test_a_frontend_below_a_path_matches_whole_segments(dist: Path) -> None:
    app = Tether()
    app.frontend("/app/", directory=dist, fallback="index.html")  # trailing slash dropped
    client = TestClient(app)

    assert client.get("/app/assets/app.js").text == "console.log(1)"
    assert client.get("/app/settings", headers=PAGE).text == "<app shell>"
    assert client.get("/application", headers=PAGE).status_code == 404
    assert client.get("/assets/app.js").status_code == 404


@pytest.mark.parametrize(
    "path", ["/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt", "/link.txt"]
)
def test_nothing_outside_the_directory_is_served(tmp_path: Path, path: str) -> None:
    root = build(tmp_path / "dist", {"index.html": "shell"})
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    app = Tether()
    app.frontend("/", directory=root, fallback=None)

    response = TestClient(app).get(path)

    assert response.status_code == 404
    assert "secret" not in response.text


# -- fallback ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "navigation"),
    [
        ("text/html", True),
        ("application/xhtml+xml", True),
        ("TEXT/HTML; charset=utf-8; q=0.5", True),
        ("text/html;q=oops", True),  # an unreadable quality counts as 1
        ("text/html;q=0", False),
        ("text/html; q=0.000, */*", False),
        ("*/*", False),
        ("application/json", False),
        ("", False),
    ],
)
def test_accepts_page(accept: str, navigation: bool) -> None:
    assert accepts_page(accept) is navigation


def test_index_fallback_answers_navigations_only(dist: Path) -> None:
    app = Tether()
    app.frontend("/", directory=dist, fallback="index.html")
    client = TestClient(app)

    page = client.get("/dashboard/settings", headers=PAGE)
    assert page.status_code == 200
    assert page.text == "<app shell>"
    missing_script = client.get("/assets/missing.js", headers={"accept": "*/*"})
    assert missing_script.status_code == 404
    assert missing_script.json() == {"detail": "Not Found"}
    head = client.head("/dashboard", headers=PAGE)
    assert (head.status_code, head.headers["content-length"]) == (200, "11")


def test_auto_fallback_prefers_404_html(tmp_path: Path) -> None:
    root = build(tmp_path / "site", {"index.html": "shell", "404.html": "lost"})
    app = Tether()
    app.frontend("/", directory=root)

    for headers in (PAGE, {"accept": "*/*"}):
        response = TestClient(app).get("/nowhere", headers=headers)
        assert (response.status_code, response.text) == (404, "lost")


def test_auto_fallback_uses_index_then_nothing(tmp_path: Path) -> None:
    shell = build(tmp_path / "spa", {"index.html": "shell"})
    empty = build(tmp_path / "empty", {})
    app = Tether()
    app.frontend("/spa", directory=shell)
    app.frontend("/empty", directory=empty)
    client = TestClient(app)

    assert client.get("/spa/deep/link", headers=PAGE).text == "shell"
    plain = client.get("/empty/deep/link", headers=PAGE)
    assert (plain.status_code, plain.json()) == (404, {"detail": "Not Found"})


def test_no_fallback_is_a_plain_404(dist: Path) -> None:
    app = Tether()
    app.frontend("/", directory=dist, fallback=None)

    response = TestClient(app).get("/dashboard", headers=PAGE)

    assert (response.status_code, response.json()) == (404, {"detail": "Not Found"})


def test_unknown_fallback_is_refused(dist: Path) -> None:
    with pytest.raises(AssertionError, match="fallback"):
        Tether().frontend("/", directory=dist, fallback="home.html")  # type: ignore[arg-type]


# -- methods -------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "status"), [("/assets/app.js", 405), ("/about/", 405)])
def test_other_methods_on_a_file_get_405(dist: Path, path: str, status: int) -> None:
    app = Tether()
    app.frontend("/", directory=dist)

    assert TestClient(app).post(path).status_code == status


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "OPTIONS"])
def test_other_methods_where_only_a_fallback_answers_get_404(dist: Path, method: str) -> None:
    app = Tether()
    app.frontend("/", directory=dist, fallback="index.html")

    response = TestClient(app).request(method, "/dashboard", headers=PAGE)

    assert response.status_code == 404


# -- priority ------------------------------------------------------------------------------


def test_every_other_route_comes_first(tmp_path: Path) -> None:
    root = build(
        tmp_path / "dist",
        {"index.html": "shell", "api": "file", "ws": "file", "static/x.txt": "file", "low": "f"},
    )
    mounted = build(tmp_path / "mounted", {"x.txt": "mounted"})
    app = Tether()
    app.frontend("/", directory=root, fallback="index.html")  # declared first, served last

    @app.get("/api")
    def read_api() -> dict[str, str]:
        return {"from": "api"}

    @app.get("/form")
    def form() -> str:
        return "form"  # pragma: no cover

    @app.get("/missing")
    def missing() -> None:
        raise HTTPException(404, "api says no")

    @app.websocket("/ws")
    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("websocket")
        await websocket.close()

    app.mount("/static", StaticFiles(directory=mounted))
    client = TestClient(app)

    assert client.get("/api").json() == {"from": "api"}
    refused = client.post("/form", headers=PAGE)  # the route's partial match wins
    assert (refused.status_code, refused.headers["allow"]) == (405, "GET, HEAD")
    assert client.get("/missing", headers=PAGE).json() == {"detail": "api says no"}
    assert client.get("/static/x.txt").text == "mounted"
    with client.websocket_connect("/ws") as websocket:
        assert websocket.receive_text() == "websocket"
    assert client.get("/ws").text == "file"  # HTTP on the WebSocket's path: the file


def test_websockets_never_reach_a_frontend(dist: Path) -> None:
    app = Tether()
    app.frontend("/", directory=dist, fallback="index.html")

    client = TestClient(app)
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/app.js"):
        pass  # pragma: no cover

    assert denied.value.status_code == 404


def test_a_route_added_after_the_frontend_still_wins(dist: Path) -> None:
    app = Tether()
    app.frontend("/", directory=dist, fallback="index.html")
    client = TestClient(app)
    assert client.get("/dashboard", headers=PAGE).text == "<app shell>"

    @app.get("/dashboard")
    def dashboard() -> str:
        return "api"

    assert client.get("/dashboard", headers=PAGE).json() == "api"


def test_a_slash_redirect_of_a_route_wins(tmp_path: Path) -> None:
    root = build(tmp_path / "dist", {"api": "file"})
    app = Tether()

    @app.get("/api/")
    def read_api() -> str:
        return "api"

    app.frontend("/", directory=root)

    response = TestClient(app).get("/api", follow_redirects=False)

    assert response.status_code == 307
    assert response.headers["location"] == "http://testserver/api/"
    assert TestClient(app).get("/api/").json() == "api"


def test_the_longest_frontend_prefix_wins(tmp_path: Path) -> None:
    site = build(tmp_path / "site", {"index.html": "site", "admin/only-here": "site file"})
    admin = build(tmp_path / "admin", {"index.html": "admin"})
    app = Tether()
    app.frontend("/", directory=site, fallback="index.html")
    app.frontend("/admin", directory=admin, fallback="index.html")
    client = TestClient(app)

    assert client.get("/admin/users", headers=PAGE).text == "admin"
    assert client.get("/admin/only-here").status_code == 404  # not the site's file
    assert client.get("/blog", headers=PAGE).text == "site"


def test_low_priority_routes_keep_their_order(dist: Path) -> None:
    async def low(request: Request) -> Response:
        return PlainTextResponse("low")

    app = Tether()
    app.router._low_priority_routes.append(app.router.route_class("/about", low))
    app.frontend("/", directory=dist)
    client = TestClient(app)

    assert client.get("/about", follow_redirects=False).text == "low"
    assert client.get("/assets/app.js").text == "console.log(1)"


# -- routers and dependencies --------------------------------------------------------------


def record(calls: list[str], label: str) -> object:
    def dependency() -> None:
        calls.append(label)

    return Depends(dependency)


def test_include_router_applies_prefixes_and_dependencies_in_order(dist: Path) -> None:
    calls: list[str] = []
    child = Router(prefix="/child", dependencies=[record(calls, "child")])
    child.frontend("/ui", directory=dist, fallback="index.html")
    parent = Router(dependencies=[record(calls, "parent")])
    parent.include_router(child, prefix="/p", dependencies=[record(calls, "parent-include")])
    app = Tether(dependencies=[record(calls, "app")])
    app.include_router(parent, prefix="/top", dependencies=[record(calls, "app-include")])
    client = TestClient(app)

    assert client.get("/top/p/child/ui/assets/app.js").text == "console.log(1)"
    assert calls == ["app", "app-include", "parent", "parent-include", "child"]
    assert client.get("/top/p/child/ui/settings", headers=PAGE).text == "<app shell>"
    assert client.get("/child/ui/assets/app.js").status_code == 404
    assert app.openapi()["paths"] == {}


def test_dependencies_guard_files_and_fallback_and_run_only_when_chosen(dist: Path) -> None:
    calls: list[str] = []

    def session(request: Request) -> None:
        calls.append(request.url.path)
        if request.cookies.get("session") != "ok":
            raise HTTPException(401)

    router = Router(dependencies=[Depends(session)])
    router.frontend("/", directory=dist, fallback="index.html")
    app = Tether()

    @app.get("/api")
    def read_api() -> str:
        return "api"

    app.include_router(router, prefix="/app")
    client = TestClient(app)

    assert client.get("/app/assets/app.js").status_code == 401
    client.cookies.set("session", "ok")
    assert client.get("/app/assets/app.js").status_code == 200
    assert client.get("/app/deep", headers=PAGE).text == "<app shell>"
    assert client.get("/api").json() == "api"
    assert calls == ["/app/assets/app.js", "/app/assets/app.js", "/app/deep"]


def test_dependency_response_headers_background_and_overrides(dist: Path) -> None:
    ran: list[str] = []

    def strict() -> None:
        raise HTTPException(403)

    def relaxed(response: Response, tasks: BackgroundTasks) -> None:
        response.headers["x-served-by"] = "frontend"
        response.set_cookie("seen", "yes")
        tasks.add_task(ran.append, "after")

    app = Tether(dependencies=[Depends(strict)])
    app.frontend("/", directory=dist)
    client = TestClient(app)
    assert client.get("/").status_code == 403

    app.dependency_overrides[strict] = relaxed
    response = client.get("/")

    assert response.text == "<app shell>"
    assert response.headers["x-served-by"] == "frontend"
    assert response.cookies["seen"] == "yes"
    assert ran == ["after"]


def test_a_dependency_validation_error_is_a_422(dist: Path) -> None:
    def needs_token(token: str) -> None:
        pass  # pragma: no cover

    app = Tether(dependencies=[Depends(needs_token)])
    app.frontend("/", directory=dist)

    response = TestClient(app).get("/")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "token"]


def test_middleware_sees_frontend_requests(dist: Path) -> None:
    seen: list[str] = []
    app = Tether()

    @app.middleware("http")
    async def log(request: Request, call_next: object) -> Response:
        seen.append(request.url.path)
        return await call_next(request)  # type: ignore[operator,no-any-return]

    app.frontend("/", directory=dist)

    assert TestClient(app).get("/assets/app.js").status_code == 200
    assert seen == ["/assets/app.js"]


def test_root_path_is_honoured(dist: Path) -> None:
    app = Tether()
    app.frontend("/app", directory=dist)

    response = TestClient(app, root_path="/proxy").get("/app/assets/app.js")

    assert response.text == "console.log(1)"


# -- configuration -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["", "app"])
def test_a_frontend_path_must_start_with_a_slash(dist: Path, path: str) -> None:
    with pytest.raises(AssertionError):
        Tether().frontend(path, directory=dist)


def test_check_dir_true_names_the_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FASTAPI_ENV", "development")

    with pytest.raises(RuntimeError, match="does not exist") as raised:
        Tether().frontend("/", directory="missing", check_dir=True)

    assert "'missing'" in str(raised.value)
    assert str(tmp_path / "missing") in str(raised.value)


def test_check_dir_auto_checks_outside_development(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FASTAPI_ENV", raising=False)
    monkeypatch.delenv("TETHER_ENV", raising=False)

    with pytest.raises(RuntimeError, match="does not exist"):
        Router().frontend("/", directory=tmp_path / "missing")


@pytest.mark.parametrize("variable", ["FASTAPI_ENV", "TETHER_ENV"])
def test_check_dir_auto_warns_in_development_at_the_callers_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.delenv("FASTAPI_ENV", raising=False)
    monkeypatch.setenv(variable, "development")
    app = Tether()

    with pytest.warns(UserWarning, match="does not exist") as warned:
        app.frontend("/", directory=tmp_path / "later")

    assert warned[0].filename == __file__
    (tmp_path / "later").mkdir()
    (tmp_path / "later" / "index.html").write_text("built meanwhile")
    assert TestClient(app).get("/").text == "built meanwhile"


def test_check_dir_false_fails_on_the_first_request(tmp_path: Path) -> None:
    app = Tether()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        app.frontend("/", directory=tmp_path / "missing", check_dir=False)

    with pytest.raises(RuntimeError, match="does not exist"):
        TestClient(app).get("/x")


def test_an_explicit_fallback_file_must_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(tmp_path / "dist", {"index.html": "shell"})
    monkeypatch.chdir(tmp_path)

    with pytest.raises(RuntimeError, match="404.html") as raised:
        Tether().frontend("/", directory="dist", fallback="404.html")
    assert "directory 'dist'" in str(raised.value)

    app = Tether()
    app.frontend("/", directory="dist", fallback="404.html", check_dir=False)
    with pytest.raises(RuntimeError, match="404.html"):
        TestClient(app).get("/missing.js")


def test_lookup_errors_become_statuses(dist: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = Tether()
    app.frontend("/", directory=dist)
    group = app.router._frontend_routes
    assert group is not None
    files = group.routes[0].app
    assert isinstance(files, FrontendFiles)
    client = TestClient(app)

    def refuse(path: str) -> object:
        raise PermissionError

    def unnameable(path: str) -> object:
        raise ValueError("embedded null byte")

    monkeypatch.setattr(files, "lookup_path", refuse)
    assert client.get("/assets/app.js").status_code == 401
    monkeypatch.setattr(files, "lookup_path", unnameable)
    assert client.get("/assets/app.js").status_code == 404
