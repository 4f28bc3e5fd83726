"""Security schemes on HTTP and WebSocket routes, through the real app and both test clients."""

from typing import Any

import pytest

from tether.applications import Tether
from tether.params import Depends, Security
from tether.requests import HTTPConnection
from tether.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
    SecurityScopes,
    SubprotocolToken,
    WebSocketSubprotocolToken,
)
from tether.testclient import AsyncTestClient, TestClient, WebSocketDenialResponse
from tether.websockets import WebSocket


def make_app(scheme: Any) -> Tether:
    """One scheme guarding an HTTP route and a WebSocket route."""
    app = Tether()

    @app.get("/http")
    async def http_route(value: Any = Depends(scheme)) -> Any:
        return {"value": _plain(value)}

    @app.websocket("/ws")
    async def ws_route(websocket: WebSocket, value: Any = Depends(scheme)) -> None:
        await websocket.accept()
        await websocket.send_json({"value": _plain(value)})
        await websocket.close()

    return app


def _plain(value: Any) -> Any:
    if isinstance(value, HTTPAuthorizationCredentials):
        return [value.scheme, value.credentials]
    return value


CASES = [
    (HTTPBearer(), {"headers": {"Authorization": "Bearer tok"}}, ["Bearer", "tok"], "Bearer"),
    (OAuth2PasswordBearer("/token"), {"headers": {"Authorization": "bearer tok"}}, "tok", "Bearer"),
    (APIKeyHeader(name="X-Key"), {"headers": {"x-key": "k1"}}, "k1", "APIKey"),
    (APIKeyQuery(name="key"), {"params": {"key": "k2"}}, "k2", "APIKey"),
    (APIKeyCookie(name="key"), {"cookies": {"key": "k3"}}, "k3", "APIKey"),
]


@pytest.mark.parametrize(("scheme", "credentials", "expected", "challenge"), CASES)
def test_scheme_accepts_and_refuses_on_both_protocols(
    scheme: Any, credentials: dict[str, Any], expected: Any, challenge: str
) -> None:
    client = TestClient(make_app(scheme))
    credentials = dict(credentials)
    cookies = credentials.pop("cookies", None)
    if cookies:
        client.cookies.update(cookies)
    assert client.get("/http", **credentials).json() == {"value": expected}
    with client.websocket_connect("/ws", **credentials) as session:
        assert session.receive_json() == {"value": expected}
    client.cookies.clear()

    response = client.get("/http")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge
    with pytest.raises(WebSocketDenialResponse) as denied, client.websocket_connect("/ws"):
        pass
    assert denied.value.status_code == 401
    assert denied.value.headers["www-authenticate"] == challenge


@pytest.mark.parametrize(("scheme", "credentials", "expected", "challenge"), CASES)
async def test_scheme_with_async_client(
    scheme: Any, credentials: dict[str, Any], expected: Any, challenge: str
) -> None:
    async with AsyncTestClient(make_app(scheme)) as client:
        credentials = dict(credentials)
        cookies = credentials.pop("cookies", None)
        if cookies:
            client.cookies.update(cookies)
        async with client.websocket_connect("/ws", **credentials) as session:
            assert await session.receive_json() == {"value": expected}
        client.cookies.clear()
        with pytest.raises(WebSocketDenialResponse) as denied:
            async with client.websocket_connect("/ws"):
                pass
        assert denied.value.status_code == 401


def test_bearer_rejects_other_schemes_and_auto_error_false_returns_none() -> None:
    client = TestClient(make_app(HTTPBearer()))
    assert client.get("/http", headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.get("/http", headers={"Authorization": "Bearer"}).status_code == 401
    lenient = TestClient(make_app(HTTPBearer(auto_error=False)))
    assert lenient.get("/http").json() == {"value": None}
    with lenient.websocket_connect("/ws") as session:
        assert session.receive_json() == {"value": None}


def test_credentials_are_pydantic_models_whose_repr_hides_the_secret() -> None:
    creds = HTTPAuthorizationCredentials(scheme="Bearer", credentials="secret")
    assert "secret" not in repr(creds)
    assert creds == HTTPAuthorizationCredentials(scheme="Bearer", credentials="secret")
    assert creds.model_dump() == {"scheme": "Bearer", "credentials": "secret"}


def subprotocol_app(scheme: WebSocketSubprotocolToken) -> Tether:
    app = Tether()

    @app.websocket("/ws")
    async def ws_route(websocket: WebSocket, auth: SubprotocolToken = Depends(scheme)) -> None:
        await websocket.accept(subprotocol=auth.subprotocol)
        await websocket.send_text(auth.token)
        await websocket.close()

    return app


def test_subprotocol_token_echoes_the_app_protocol() -> None:
    client = TestClient(subprotocol_app(WebSocketSubprotocolToken(protocols=["chat.v1"])))
    with client.websocket_connect("/ws", subprotocols=["chat.v1", "bearer.abc"]) as session:
        assert session.receive_text() == "abc"
        assert session.accepted_subprotocol == "chat.v1"
    offered = ["chat.v1"]
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/ws", subprotocols=offered),
    ):
        pass
    assert denied.value.status_code == 401
    offered = ["other", "bearer.abc"]
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/ws", subprotocols=offered),
    ):
        pass
    assert denied.value.status_code == 400


async def test_subprotocol_token_without_protocols_echoes_the_token_entry() -> None:
    app = subprotocol_app(WebSocketSubprotocolToken(prefix="token-"))
    async with AsyncTestClient(app) as client:
        async with client.websocket_connect("/ws", subprotocols=["token-xyz"]) as session:
            assert await session.receive_text() == "xyz"
            assert session.accepted_subprotocol == "token-xyz"
        with pytest.raises(WebSocketDenialResponse):
            async with client.websocket_connect("/ws"):
                pass


def test_security_scopes_with_a_scheme() -> None:
    bearer = OAuth2PasswordBearer("/token")
    grants = {"tok": {"items", "me"}}

    async def current_user(security_scopes: SecurityScopes, token: str = Depends(bearer)) -> str:
        missing = set(security_scopes.scopes) - grants.get(token, set())
        if missing:
            from tether.exceptions import HTTPException

            raise HTTPException(403, f"missing scopes {sorted(missing)}")
        return token

    async def identity(
        conn: HTTPConnection, user: str = Security(current_user, scopes=["me"])
    ) -> str:
        return user

    app = Tether()

    @app.websocket("/items")
    async def items(websocket: WebSocket, user: str = Security(identity, scopes=["items"])) -> None:
        await websocket.accept()
        await websocket.send_text(user)
        await websocket.close()

    @app.websocket("/admin")
    async def admin(
        websocket: WebSocket, user: str = Security(current_user, scopes=["admin"])
    ) -> None:
        await websocket.accept()

    client = TestClient(app)
    auth = {"Authorization": "Bearer tok"}
    with client.websocket_connect("/items", headers=auth) as session:
        assert session.receive_text() == "tok"
    with (
        pytest.raises(WebSocketDenialResponse) as denied,
        client.websocket_connect("/admin", headers=auth),
    ):
        pass
    assert denied.value.status_code == 403
