"""Form parsing limits (tether.formparsers) and the routes' body limit (max_body_size).

Each limit is refused with a clear status while the body is read, and every file created so
far is closed: the process holds no more open files after a refused upload than before.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

from tether import File, Form, Request, Router, Tether, UploadFile
from tether.formparsers import FormLimits
from tether.testclient import TestClient


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def make_app(**route: Any) -> Tether:
    app = Tether()

    @app.post("/upload", **route)
    async def upload(
        files: Annotated[list[UploadFile], File()] = [],  # noqa: B006 - FastAPI style, copied per call
        note: Annotated[str, Form()] = "",
    ) -> Any:
        return {"sizes": [f.size for f in files], "note": note}

    @app.post("/raw", **route)
    async def raw(request: Request) -> Any:
        return {"length": len(await request.body())}

    return app


def test_within_limits_files_roll_to_disk_and_are_read_back() -> None:
    client = TestClient(make_app(form_limits=FormLimits(spool_max_size=1024)))
    big = os.urandom(64 * 1024)  # past the spool size: written to a temporary file
    response = client.post("/upload", files=[("files", ("a.bin", big)), ("files", ("b.bin", b"x"))])
    assert response.json() == {"sizes": [len(big), 1], "note": ""}


def test_too_many_files_or_fields_is_422_and_nothing_stays_open() -> None:
    client = TestClient(
        make_app(form_limits=FormLimits(max_files=2, max_fields=2, spool_max_size=10))
    )
    client.post("/upload", files=[("files", ("a", b"1"))])  # warm up the client's own files
    before = open_fds()
    files = [("files", (f"{i}.bin", os.urandom(4096))) for i in range(3)]
    response = client.post("/upload", files=files)
    assert response.status_code == 422
    assert "too many files" in response.json()["detail"]
    assert open_fds() == before
    fields = {"note": "a", "x": "b", "y": "c"}
    response = client.post("/upload", data=fields, files=[("files", ("a", b"1"))])
    assert response.status_code == 422
    assert "too many form fields" in response.json()["detail"]
    response = client.post("/upload", data=fields)  # URL-encoded
    assert response.status_code == 422


def test_a_field_over_the_part_size_is_413() -> None:
    client = TestClient(make_app(form_limits=FormLimits(max_part_size=100)))
    response = client.post("/upload", data={"note": "x" * 101}, files=[("files", ("a", b"1"))])
    assert response.status_code == 413
    assert "larger than 100 bytes" in response.json()["detail"]
    ok = client.post("/upload", data={"note": "x" * 100}, files=[("files", ("a", b"1"))])
    assert ok.json()["note"] == "x" * 100


def test_max_body_size_on_every_route_kind() -> None:
    client = TestClient(make_app(max_body_size=1000))
    assert client.post("/raw", content=b"x" * 1000).json() == {"length": 1000}
    declared = client.post("/raw", content=b"x" * 1001)
    assert declared.status_code == 413
    assert declared.json() == {"detail": "the request body is larger than 1000 bytes"}

    def chunks() -> Any:  # no Content-Length: counted as it streams
        for _ in range(11):
            yield b"x" * 100

    assert client.post("/raw", content=chunks()).status_code == 413
    upload = client.post("/upload", files=[("files", ("a.bin", os.urandom(2000)))])
    assert upload.status_code == 413


def test_router_and_app_defaults_for_the_body_limit() -> None:
    router = Router(max_body_size=10)

    @router.post("/small")
    async def small(request: Request) -> Any:
        return len(await request.body())

    @router.post("/large", max_body_size=100)
    async def large(request: Request) -> Any:
        return len(await request.body())

    app = Tether(max_body_size=5)
    app.include_router(router)

    @app.post("/app")
    async def app_route(request: Request) -> Any:
        return len(await request.body())

    client = TestClient(app)
    assert client.post("/small", content=b"x" * 11).status_code == 413
    assert client.post("/large", content=b"x" * 100).json() == 100
    assert client.post("/app", content=b"x" * 6).status_code == 413


def test_malformed_multipart_is_400() -> None:
    client = TestClient(make_app())
    response = client.post(
        "/upload",
        content=b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n",
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 400
    no_boundary = client.post(
        "/upload", content=b"x", headers={"content-type": "multipart/form-data"}
    )
    assert no_boundary.status_code == 400
