"""FastAPI's tests/test_router_events.py and its http-middleware tutorial, as the peer writes
them (imports renamed): ``on_event`` on app and routers, ``@app.middleware("http")``."""

import time

import pytest
from pydantic import BaseModel

from tether import APIRouter, Request, WebSocket
from tether import Tether as FastAPI
from tether.testclient import TestClient


class State(BaseModel):
    app_startup: bool = False
    app_shutdown: bool = False
    router_startup: bool = False
    router_shutdown: bool = False
    sub_router_startup: bool = False
    sub_router_shutdown: bool = False


@pytest.fixture
def state() -> State:
    return State()


def test_router_events(state: State) -> None:
    app = FastAPI()

    @app.get("/")
    def main() -> dict[str, str]:
        return {"message": "Hello World"}

    @app.on_event("startup")
    def app_startup() -> None:
        state.app_startup = True

    @app.on_event("shutdown")
    def app_shutdown() -> None:
        state.app_shutdown = True

    router = APIRouter()

    @router.on_event("startup")
    def router_startup() -> None:
        state.router_startup = True

    @router.on_event("shutdown")
    def router_shutdown() -> None:
        state.router_shutdown = True

    sub_router = APIRouter()

    @sub_router.on_event("startup")
    def sub_router_startup() -> None:
        state.sub_router_startup = True

    @sub_router.on_event("shutdown")
    def sub_router_shutdown() -> None:
        state.sub_router_shutdown = True

    router.include_router(sub_router)
    app.include_router(router)

    assert state.app_startup is False
    assert state.router_startup is False
    assert state.sub_router_startup is False
    with TestClient(app) as client:
        assert state.app_startup is True
        assert state.router_startup is True
        assert state.sub_router_startup is True
        assert state.app_shutdown is False
        response = client.get("/")
        assert response.status_code == 200, response.text
        assert response.json() == {"message": "Hello World"}
    assert state.app_shutdown is True
    assert state.router_shutdown is True
    assert state.sub_router_shutdown is True


def test_http_middleware_tutorial() -> None:
    app = FastAPI()

    @app.middleware("http")
    async def add_process_time_header(request: Request, call_next):
        start_time = time.perf_counter()
        response = await call_next(request)
        process_time = time.perf_counter() - start_time
        response.headers["X-Process-Time"] = str(process_time)
        return response

    @app.get("/items/{item_id}")
    def read_item(item_id: str):
        return {"item_id": item_id}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket):
        await websocket.accept()
        await websocket.send_text("untouched")
        await websocket.close()

    client = TestClient(app)
    response = client.get("/items/foo")
    assert response.json() == {"item_id": "foo"}
    assert float(response.headers["X-Process-Time"]) > 0
    with client.websocket_connect("/ws") as websocket:
        assert websocket.receive_text() == "untouched"


def test_unknown_event_and_middleware_types_are_refused() -> None:
    app = FastAPI()
    with pytest.raises(ValueError):
        app.on_event("ready")
    with pytest.raises(ValueError):
        app.middleware("websocket")
