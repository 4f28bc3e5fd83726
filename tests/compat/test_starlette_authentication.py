"""Starlette's tests/test_authentication.py, written as the peer writes them (imports renamed)."""

import base64
import binascii
from urllib.parse import urlencode

import pytest

from tether import Tether as Starlette
from tether.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    SimpleUser,
    requires,
)
from tether.endpoints import HTTPEndpoint
from tether.middleware import Middleware
from tether.middleware.authentication import AuthenticationMiddleware
from tether.requests import HTTPConnection, Request
from tether.responses import JSONResponse
from tether.routing import Route, WebSocketRoute
from tether.testclient import TestClient
from tether.websockets import WebSocket, WebSocketDisconnect


class BasicAuth(AuthenticationBackend):
    async def authenticate(self, request: HTTPConnection):
        if "Authorization" not in request.headers:
            return None
        auth = request.headers["Authorization"]
        try:
            scheme, credentials = auth.split()
            decoded = base64.b64decode(credentials).decode("ascii")
        except (ValueError, UnicodeDecodeError, binascii.Error):
            raise AuthenticationError("Invalid basic auth credentials") from None
        username, _, password = decoded.partition(":")
        return AuthCredentials(["authenticated"]), SimpleUser(username)


def user_json(conn, **extra):
    return {"authenticated": conn.user.is_authenticated, "user": conn.user.display_name, **extra}


def homepage(request: Request) -> JSONResponse:
    return JSONResponse(user_json(request))


@requires("authenticated")
async def dashboard(request: Request) -> JSONResponse:
    return JSONResponse(user_json(request))


@requires("authenticated", redirect="homepage")
async def admin(request: Request) -> JSONResponse:
    return JSONResponse(user_json(request))


@requires("authenticated")
def dashboard_sync(request: Request) -> JSONResponse:
    return JSONResponse(user_json(request))


class Dashboard(HTTPEndpoint):
    @requires("authenticated")
    def get(self, request: Request) -> JSONResponse:
        return JSONResponse(user_json(request))


@requires("authenticated", redirect="homepage")
def admin_sync(request: Request) -> JSONResponse:
    return JSONResponse(user_json(request))


@requires("authenticated")
async def websocket_endpoint(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json(user_json(websocket))


def async_inject_decorator(**kwargs):
    def wrapper(endpoint):
        async def app(request: Request):
            return await endpoint(request=request, **kwargs)

        return app

    return wrapper


@async_inject_decorator(additional="payload")
@requires("authenticated")
async def decorated_async(request: Request, additional: str) -> JSONResponse:
    return JSONResponse(user_json(request, additional=additional))


def ws_inject_decorator(**kwargs):
    def wrapper(endpoint):
        def app(websocket: WebSocket):
            return endpoint(websocket=websocket, **kwargs)

        return app

    return wrapper


@ws_inject_decorator(additional="payload")
@requires("authenticated")
async def websocket_endpoint_decorated(websocket: WebSocket, additional: str) -> None:
    await websocket.accept()
    await websocket.send_json(user_json(websocket, additional=additional))


app = Starlette(
    middleware=[Middleware(AuthenticationMiddleware, backend=BasicAuth())],
    routes=[
        Route("/", endpoint=homepage),
        Route("/dashboard", endpoint=dashboard),
        Route("/admin", endpoint=admin),
        Route("/dashboard/sync", endpoint=dashboard_sync),
        Route("/dashboard/class", endpoint=Dashboard),
        Route("/admin/sync", endpoint=admin_sync),
        Route("/dashboard/decorated", endpoint=decorated_async),
        WebSocketRoute("/ws", endpoint=websocket_endpoint),
        WebSocketRoute("/ws/decorated", endpoint=websocket_endpoint_decorated),
    ],
)

AUTH = ("tomchristie", "example")


def test_invalid_decorator_usage() -> None:
    with pytest.raises(Exception):

        @requires("authenticated")
        def foo() -> None:  # pragma: no cover
            pass


def test_user_interface() -> None:
    with TestClient(app) as client:
        response = client.get("/")
        assert response.status_code == 200
        assert response.json() == {"authenticated": False, "user": ""}
        response = client.get("/", auth=AUTH)
        assert response.json() == {"authenticated": True, "user": "tomchristie"}


def test_authentication_required() -> None:
    with TestClient(app) as client:
        for path in ("/dashboard", "/dashboard/sync", "/dashboard/class", "/dashboard/decorated"):
            assert client.get(path).status_code == 403
            response = client.get(path, auth=AUTH)
            assert response.status_code == 200
            assert response.json()["user"] == "tomchristie"
        assert client.get("/dashboard/decorated", auth=AUTH).json()["additional"] == "payload"
        response = client.get("/dashboard", headers={"Authorization": "basic foobar"})
        assert response.status_code == 400
        assert response.text == "Invalid basic auth credentials"


def test_websocket_authentication_required() -> None:
    with TestClient(app) as client:
        for path in ("/ws", "/ws/decorated"):
            with pytest.raises(WebSocketDisconnect):
                with client.websocket_connect(path):
                    pass  # pragma: no cover
            with pytest.raises(WebSocketDisconnect):
                with client.websocket_connect(path, headers={"Authorization": "basic foobar"}):
                    pass  # pragma: no cover
        with client.websocket_connect("/ws", auth=AUTH) as websocket:
            assert websocket.receive_json() == {"authenticated": True, "user": "tomchristie"}
        with client.websocket_connect("/ws/decorated", auth=AUTH) as websocket:
            assert websocket.receive_json() == {
                "authenticated": True,
                "user": "tomchristie",
                "additional": "payload",
            }


def test_authentication_redirect() -> None:
    with TestClient(app) as client:
        for path in ("/admin", "/admin/sync"):
            response = client.get(path)
            assert response.status_code == 200
            url = "{}?{}".format(
                "http://testserver/", urlencode({"next": f"http://testserver{path}"})
            )
            assert response.url == url
            response = client.get(path, auth=AUTH)
            assert response.json() == {"authenticated": True, "user": "tomchristie"}


def on_auth_error(request: HTTPConnection, exc: AuthenticationError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=401)


@requires("authenticated")
def control_panel(request: Request) -> JSONResponse:
    return JSONResponse(user_json(request))


other_app = Starlette(
    routes=[Route("/control-panel", control_panel)],
    middleware=[Middleware(AuthenticationMiddleware, backend=BasicAuth(), on_error=on_auth_error)],
)


def test_custom_on_error() -> None:
    with TestClient(other_app) as client:
        response = client.get("/control-panel", auth=AUTH)
        assert response.json() == {"authenticated": True, "user": "tomchristie"}
        response = client.get("/control-panel", headers={"Authorization": "basic foobar"})
        assert response.status_code == 401
        assert response.json() == {"error": "Invalid basic auth credentials"}
