"""docs/examples/frontend_app.py: the documented frontend example serves its build last."""

from __future__ import annotations

import httpx
import pytest
from docs.examples.frontend_app import DIST, app
from websockets.sync.client import connect

from servers import uvicorn_process
from tether.testclient import TestClient

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_api_and_websocket_first_then_the_build() -> None:
    client = TestClient(app)

    assert client.get("/api/me").json() == {"name": "Ada"}
    with client.websocket_connect("/ws") as websocket:
        assert websocket.receive_text() == "welcome"
    script = client.get("/assets/app.js")
    assert script.status_code == 200
    assert script.text == (DIST / "assets" / "app.js").read_text()
    assert script.headers["etag"]


def test_client_side_routes_get_the_shell_and_missing_files_a_404() -> None:
    client = TestClient(app)
    shell = (DIST / "index.html").read_text()

    assert client.get("/", headers=BROWSER).text == shell
    page = client.get("/rooms/lobby", headers=BROWSER)
    assert (page.status_code, page.text) == (200, shell)
    assert page.headers["content-type"].startswith("text/html")
    missing = client.get("/assets/missing.js", headers={"accept": "*/*"})
    assert (missing.status_code, missing.json()) == (404, {"detail": "Not Found"})
    assert client.post("/rooms/lobby", headers=BROWSER).status_code == 404
    assert "/" not in client.get("/openapi.json").json()["paths"]


@pytest.mark.integration
def test_the_example_under_uvicorn() -> None:
    with uvicorn_process("docs.examples.frontend_app:app") as server:
        script = httpx.get(f"{server.url}/assets/app.js")
        assert (script.status_code, script.text) == (200, (DIST / "assets/app.js").read_text())
        cached = httpx.get(
            f"{server.url}/assets/app.js", headers={"if-none-match": script.headers["etag"]}
        )
        assert cached.status_code == 304
        page = httpx.get(f"{server.url}/rooms/lobby", headers=BROWSER)
        assert (page.status_code, page.text) == (200, (DIST / "index.html").read_text())
        assert httpx.get(f"{server.url}/api/me").json() == {"name": "Ada"}
        with connect(f"{server.ws_url}/ws") as websocket:
            assert websocket.recv(timeout=5) == "welcome"
