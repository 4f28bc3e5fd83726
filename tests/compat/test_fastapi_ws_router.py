"""FastAPI's tests/test_ws_router.py, written as the peer writes them (imports renamed).

Two checks differ, both deliberate (docs/compat.md 9 and 10): an unknown path is a 404
denial and a dependency's validation error a 422 denial, where the peer closes with 1000 and
1008. The test client's ``WebSocketDenialResponse`` is a ``WebSocketDisconnect``, so the
peer's ``pytest.raises(WebSocketDisconnect)`` still holds; only the code differs.
"""

import functools

import pytest

from tether import (
    APIRouter,
    Depends,
    Header,
    WebSocket,
    WebSocketDisconnect,
    status,
)
from tether import Tether as FastAPI
from tether.middleware import Middleware
from tether.testclient import TestClient

router = APIRouter()
prefix_router = APIRouter()
native_prefix_route = APIRouter(prefix="/native")
app = FastAPI()


@app.websocket_route("/")
async def index(websocket: WebSocket):
    await websocket.accept()
    await websocket.send_text("Hello, world!")
    await websocket.close()


@router.websocket_route("/router")
async def routerindex(websocket: WebSocket):
    await websocket.accept()
    await websocket.send_text("Hello, router!")
    await websocket.close()


@prefix_router.websocket_route("/")
async def routerprefixindex(websocket: WebSocket):
    await websocket.accept()
    await websocket.send_text("Hello, router with prefix!")
    await websocket.close()


@router.websocket("/router2")
async def routerindex2(websocket: WebSocket):
    await websocket.accept()
    await websocket.send_text("Hello, router!")
    await websocket.close()


@router.websocket("/router/{pathparam:path}")
async def routerindexparams(websocket: WebSocket, pathparam: str, queryparam: str):
    await websocket.accept()
    await websocket.send_text(pathparam)
    await websocket.send_text(queryparam)
    await websocket.close()


async def ws_dependency():
    return "Socket Dependency"


@router.websocket("/router-ws-depends/")
async def router_ws_decorator_depends(websocket: WebSocket, data=Depends(ws_dependency)):
    await websocket.accept()
    await websocket.send_text(data)
    await websocket.close()


@native_prefix_route.websocket("/")
async def router_native_prefix_ws(websocket: WebSocket):
    await websocket.accept()
    await websocket.send_text("Hello, router with native prefix!")
    await websocket.close()


async def ws_dependency_err():
    raise NotImplementedError()


@router.websocket("/depends-err/")
async def router_ws_depends_err(websocket: WebSocket, data=Depends(ws_dependency_err)):
    pass  # pragma: no cover


async def ws_dependency_validate(x_missing: str = Header()):
    pass  # pragma: no cover


@router.websocket("/depends-validate/")
async def router_ws_depends_validate(websocket: WebSocket, data=Depends(ws_dependency_validate)):
    pass  # pragma: no cover


class CustomError(Exception):
    pass


@router.websocket("/custom_error/")
async def router_ws_custom_error(websocket: WebSocket):
    raise CustomError()


def make_app(app=None, **kwargs):
    app = app or FastAPI(**kwargs)
    app.include_router(router)
    app.include_router(prefix_router, prefix="/prefix")
    app.include_router(native_prefix_route)
    return app


app = make_app(app)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", "Hello, world!"),
        ("/router", "Hello, router!"),
        ("/prefix/", "Hello, router with prefix!"),
        ("/native/", "Hello, router with native prefix!"),
        ("/router2", "Hello, router!"),
        ("/router-ws-depends/", "Socket Dependency"),
    ],
)
def test_routes(path, expected):
    client = TestClient(app)
    with client.websocket_connect(path) as websocket:
        data = websocket.receive_text()
        assert data == expected


def test_router_ws_depends_with_override():
    client = TestClient(app)
    app.dependency_overrides[ws_dependency] = lambda: "Override"
    try:
        with client.websocket_connect("/router-ws-depends/") as websocket:
            assert websocket.receive_text() == "Override"
    finally:
        app.dependency_overrides.clear()


def test_router_with_params():
    client = TestClient(app)
    with client.websocket_connect("/router/path/to/file?queryparam=a_query_param") as websocket:
        assert websocket.receive_text() == "path/to/file"
        assert websocket.receive_text() == "a_query_param"


def test_wrong_uri():
    client = TestClient(app)
    with pytest.raises(WebSocketDisconnect) as e:
        with client.websocket_connect("/no-router/"):
            pass  # pragma: no cover
    assert e.value.status_code == 404  # the peer: close 1000 (docs/compat.md 9)


def websocket_middleware(middleware_func):
    def middleware_constructor(app):
        @functools.wraps(app)
        async def wrapped_app(scope, receive, send):
            if scope["type"] != "websocket":
                return await app(scope, receive, send)  # pragma: no cover

            async def call_next():
                return await app(scope, receive, send)

            websocket = WebSocket(scope, receive=receive, send=send)
            return await middleware_func(websocket, call_next)

        return wrapped_app

    return middleware_constructor


def test_depend_validation():
    caught = []

    @websocket_middleware
    async def catcher(websocket, call_next):
        try:
            return await call_next()
        except Exception as e:  # pragma: no cover
            caught.append(e)
            raise

    myapp = make_app(middleware=[Middleware(catcher)])
    client = TestClient(myapp)
    with pytest.raises(WebSocketDisconnect) as e:
        with client.websocket_connect("/depends-validate/"):
            pass  # pragma: no cover
    assert e.value.status_code == 422  # the peer: close 1008 (docs/compat.md 10)
    assert caught == []


def test_depend_err_middleware():
    @websocket_middleware
    async def errorhandler(websocket: WebSocket, call_next):
        try:
            return await call_next()
        except Exception as e:
            await websocket.close(code=status.WS_1006_ABNORMAL_CLOSURE, reason=repr(e))

    myapp = make_app(middleware=[Middleware(errorhandler)])
    client = TestClient(myapp)
    with pytest.raises(WebSocketDisconnect) as e:
        with client.websocket_connect("/depends-err/"):
            pass  # pragma: no cover
    assert e.value.code == status.WS_1006_ABNORMAL_CLOSURE
    assert "NotImplementedError" in e.value.reason


def test_depend_err_handler():
    async def custom_handler(websocket: WebSocket, exc: CustomError) -> None:
        await websocket.close(1002, "foo")

    myapp = make_app(exception_handlers={CustomError: custom_handler})
    client = TestClient(myapp)
    with pytest.raises(WebSocketDisconnect) as e:
        with client.websocket_connect("/custom_error/"):
            pass  # pragma: no cover
    assert e.value.code == 1002
    assert "foo" in e.value.reason
