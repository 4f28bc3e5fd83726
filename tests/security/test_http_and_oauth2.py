"""The FastAPI schemes on WebSocket routes, their OpenAPI models and their call signature."""

from base64 import b64encode
from typing import Any

import pytest

from tether.applications import Tether
from tether.params import Security
from tether.requests import HTTPConnection
from tether.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPBase,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OpenIdConnect,
)
from tether.testclient import TestClient, WebSocketDenialResponse
from tether.websockets import WebSocket

BASIC = "Basic " + b64encode(b"john:secret").decode()
WS_CASES = [
    (HTTPBasic(realm="r"), BASIC, {"username": "john", "password": "secret"}, 'Basic realm="r"'),
    (HTTPBase(scheme="other"), "Other x", {"scheme": "Other", "credentials": "x"}, "Other"),
    (HTTPDigest(), "Digest x", {"scheme": "Digest", "credentials": "x"}, "Digest"),
    (OAuth2(), "Whatever x", "Whatever x", "Bearer"),
    (OAuth2AuthorizationCodeBearer("a", "t"), "Bearer x", "x", "Bearer"),
    (OpenIdConnect(openIdConnectUrl="/oid"), "Bearer x", "Bearer x", "Bearer"),
]


def ws_app(scheme: Any) -> Tether:
    app = Tether()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, value: Any = Security(scheme)) -> None:
        await websocket.accept()
        await websocket.send_json(value.model_dump() if hasattr(value, "model_dump") else value)
        await websocket.close()

    return app


@pytest.mark.parametrize(("scheme", "header", "expected", "challenge"), WS_CASES)
def test_scheme_on_a_websocket_route(scheme: Any, header: str, expected: Any, challenge: str):
    client = TestClient(ws_app(scheme))
    with client.websocket_connect("/ws", headers={"Authorization": header}) as session:
        assert session.receive_json() == expected
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/ws"):
        pass
    assert denied.value.status_code == 401
    assert denied.value.headers["www-authenticate"] == challenge
    assert denied.value.json() == {"detail": "Not authenticated"}


def test_models_describe_each_scheme_for_openapi() -> None:
    assert APIKeyQuery(name="k").model == {"type": "apiKey", "in": "query", "name": "k"}
    assert APIKeyHeader(name="k", description="d").model == {
        "type": "apiKey",
        "in": "header",
        "name": "k",
        "description": "d",
    }
    assert APIKeyCookie(name="k").model.in_ == "cookie"
    assert HTTPBasic().model == {"type": "http", "scheme": "basic"}
    assert HTTPBearer(bearerFormat="JWT").model == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert OAuth2PasswordBearer("/token", scopes={"me": "Me"}).model == {
        "type": "oauth2",
        "flows": {"password": {"tokenUrl": "/token", "scopes": {"me": "Me"}}},
    }
    assert OAuth2AuthorizationCodeBearer("/a", "/t", refreshUrl="/r").model["flows"] == {
        "authorizationCode": {
            "authorizationUrl": "/a",
            "tokenUrl": "/t",
            "refreshUrl": "/r",
            "scopes": {},
        }
    }
    assert OpenIdConnect(openIdConnectUrl="/o").model.model_dump() == {
        "type": "openIdConnect",
        "openIdConnectUrl": "/o",
    }
    assert HTTPDigest().scheme_name == "HTTPDigest"
    assert HTTPBearer(scheme_name="jwt").scheme_name == "jwt"


async def test_the_peers_call_signature() -> None:
    scope = {"type": "http", "headers": [(b"authorization", b"Bearer tok")], "query_string": b""}
    request = HTTPConnection(scope)
    credentials = await HTTPBearer()(request=request)
    assert credentials is not None and credentials.credentials == "tok"
    assert await OAuth2PasswordBearer("/t")(request) == "tok"
    basic = await HTTPBasic(auto_error=False)(request=request)
    assert basic is None
    assert HTTPBasicCredentials(username="a", password="b").model_dump() == {
        "username": "a",
        "password": "b",
    }


def test_fastapis_module_paths_of_the_schemes() -> None:
    # FastAPI's tests import these from the submodules: fastapi.security.http and
    # fastapi.security.open_id_connect_url.
    from tether.security import HTTPAuthorizationCredentials as Credentials
    from tether.security import OpenIdConnect
    from tether.security.http import HTTPAuthorizationCredentials, HTTPBasicCredentials
    from tether.security.models import HTTPBasicCredentials as Basic
    from tether.security.open_id_connect_url import OpenIdConnect as FromModule

    assert HTTPAuthorizationCredentials is Credentials and HTTPBasicCredentials is Basic
    assert FromModule is OpenIdConnect
    with pytest.raises(ImportError):
        from tether.security.http import Nothing  # noqa: F401


def test_login_forms_document_secrets_as_fastapi_does() -> None:
    # OAuth2PasswordRequestForm marks password and client_secret as format: password; the
    # strict form does not (FastAPI's test_security_oauth2 and security tutorials compare).
    from typing import Annotated

    from tether import Depends
    from tether.security import OAuth2PasswordRequestForm, OAuth2PasswordRequestFormStrict
    from tether.testclient import TestClient

    app = Tether()

    @app.post("/login")
    async def login(form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> None:
        pass

    @app.post("/strict")
    async def strict(form: Annotated[OAuth2PasswordRequestFormStrict, Depends()]) -> None:
        pass

    schemas = TestClient(app).get("/openapi.json").json()["components"]["schemas"]
    lax = schemas["Body_login_login_post"]["properties"]
    assert lax["password"]["format"] == "password"
    assert lax["client_secret"]["format"] == "password"
    strict_fields = schemas["Body_strict_strict_post"]["properties"]
    assert "format" not in strict_fields["password"]
    assert "format" not in strict_fields["client_secret"]
