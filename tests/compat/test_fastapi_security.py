"""FastAPI's security tests (tests/test_security_*.py), written as the peer writes them.

Only the imports differ from the peer; the OpenAPI assertions belong to the HTTP-layer issue
and are not repeated here.
"""

from base64 import b64encode

import pytest
from pydantic import BaseModel

from tether import Depends, Security
from tether import Tether as FastAPI
from tether.encoders import jsonable_encoder
from tether.security import (
    APIKeyCookie,
    APIKeyHeader,
    APIKeyQuery,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
    HTTPDigest,
    OAuth2,
    OAuth2AuthorizationCodeBearer,
    OAuth2PasswordBearer,
    OAuth2PasswordRequestForm,
    OAuth2PasswordRequestFormStrict,
    OpenIdConnect,
    SecurityScopes,
)
from tether.security.http import HTTPBase
from tether.testclient import TestClient


class User(BaseModel):
    username: str


# --- HTTPBase ---------------------------------------------------------------------------

base_app = FastAPI()
base_security = HTTPBase(scheme="Other")


@base_app.get("/users/me")
def read_base_user(credentials: HTTPAuthorizationCredentials = Security(base_security)):
    return {"scheme": credentials.scheme, "credentials": credentials.credentials}


def test_security_http_base():
    client = TestClient(base_app)
    response = client.get("/users/me", headers={"Authorization": "Other foobar"})
    assert response.status_code == 200, response.text
    assert response.json() == {"scheme": "Other", "credentials": "foobar"}
    response = client.get("/users/me", headers={"Authorization": "Other  foobar "})
    assert response.json() == {"scheme": "Other", "credentials": "foobar"}


def test_security_http_base_no_credentials():
    response = TestClient(base_app).get("/users/me")
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == "Other"


# --- HTTPBasic ------------------------------------------------------------------------

basic_app = FastAPI()
basic_security = HTTPBasic(realm="simple")
basic_optional = HTTPBasic(auto_error=False)


@basic_app.get("/users/me")
def read_basic_user(credentials: HTTPBasicCredentials = Security(basic_security)):
    return {"username": credentials.username, "password": credentials.password}


@basic_app.get("/optional/me")
def read_optional_user(credentials: HTTPBasicCredentials | None = Security(basic_optional)):
    if credentials is None:
        return {"msg": "Create an account first"}
    return {"username": credentials.username, "password": credentials.password}


def test_security_http_basic():
    client = TestClient(basic_app)
    response = client.get("/users/me", auth=("john", "secret"))
    assert response.status_code == 200, response.text
    assert response.json() == {"username": "john", "password": "secret"}


def test_security_http_basic_no_credentials():
    client = TestClient(basic_app)
    response = client.get("/users/me")
    assert response.status_code == 401, response.text
    assert response.json() == {"detail": "Not authenticated"}
    assert response.headers["WWW-Authenticate"] == 'Basic realm="simple"'
    assert client.get("/optional/me").json() == {"msg": "Create an account first"}


def test_security_http_basic_invalid_credentials():
    client = TestClient(basic_app)
    for path in ("/users/me", "/optional/me"):
        response = client.get(path, headers={"Authorization": "Basic notabase64token"})
        assert response.status_code == 401, response.text
        assert response.json() == {"detail": "Not authenticated"}


def test_security_http_basic_non_basic_credentials():
    payload = b64encode(b"johnsecret").decode("ascii")
    response = TestClient(basic_app).get(
        "/optional/me", headers={"Authorization": f"Basic {payload}"}
    )
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Basic"
    assert response.json() == {"detail": "Not authenticated"}


# --- HTTPBearer and HTTPDigest -------------------------------------------------------

bearer_app = FastAPI()
bearer = HTTPBearer()
digest = HTTPDigest()
bearer_optional = HTTPBearer(auto_error=False)


@bearer_app.get("/bearer")
def read_bearer(credentials: HTTPAuthorizationCredentials = Security(bearer)):
    return {"scheme": credentials.scheme, "credentials": credentials.credentials}


@bearer_app.get("/digest")
def read_digest(credentials: HTTPAuthorizationCredentials = Security(digest)):
    return {"scheme": credentials.scheme, "credentials": credentials.credentials}


@bearer_app.get("/optional")
def read_optional(credentials: HTTPAuthorizationCredentials | None = Security(bearer_optional)):
    if credentials is None:
        return {"msg": "Create an account first"}
    return {"scheme": credentials.scheme, "credentials": credentials.credentials}


def test_security_http_bearer():
    client = TestClient(bearer_app)
    response = client.get("/bearer", headers={"Authorization": "Bearer foobar"})
    assert response.status_code == 200, response.text
    assert response.json() == {"scheme": "Bearer", "credentials": "foobar"}
    response = client.get("/digest", headers={"Authorization": "Digest foobar"})
    assert response.json() == {"scheme": "Digest", "credentials": "foobar"}


def test_security_http_bearer_and_digest_refusals():
    client = TestClient(bearer_app)
    for path, challenge in (("/bearer", "Bearer"), ("/digest", "Digest")):
        for headers in ({}, {"Authorization": "Other invalidauthorization"}):
            response = client.get(path, headers=headers)
            assert response.status_code == 401, response.text
            assert response.json() == {"detail": "Not authenticated"}
            assert response.headers["WWW-Authenticate"] == challenge


def test_security_http_bearer_optional():
    client = TestClient(bearer_app)
    assert client.get("/optional").json() == {"msg": "Create an account first"}
    response = client.get("/optional", headers={"Authorization": "Basic notreally"})
    assert response.json() == {"msg": "Create an account first"}


# --- API keys ------------------------------------------------------------------------

key_app = FastAPI()
query_key = APIKeyQuery(name="key")
header_key = APIKeyHeader(name="key")
cookie_key = APIKeyCookie(name="key")
optional_key = APIKeyQuery(name="key", auto_error=False)


def user_from(scheme):
    def get_current_user(oauth_header: str = Security(scheme)):
        return User(username=oauth_header)

    return get_current_user


@key_app.get("/query")
def read_query_user(current_user: User = Depends(user_from(query_key))):
    return current_user


@key_app.get("/header")
def read_header_user(current_user: User = Depends(user_from(header_key))):
    return current_user


@key_app.get("/cookie")
def read_cookie_user(current_user: User = Depends(user_from(cookie_key))):
    return current_user


@key_app.get("/optional")
def read_optional_key(key: str | None = Security(optional_key)):
    if key is None:
        return {"msg": "Create an account first"}
    return {"username": key}


def test_security_api_key():
    client = TestClient(key_app)
    assert client.get("/query?key=secret").json() == {"username": "secret"}
    assert client.get("/header", headers={"key": "secret"}).json() == {"username": "secret"}
    client = TestClient(key_app, cookies={"key": "secret"})
    response = client.get("/cookie")
    assert response.status_code == 200, response.text
    assert response.json() == {"username": "secret"}


def test_security_api_key_no_key():
    client = TestClient(key_app)
    for path in ("/query", "/header", "/cookie"):
        response = client.get(path)
        assert response.status_code == 401, response.text
        assert response.json() == {"detail": "Not authenticated"}
        assert response.headers["WWW-Authenticate"] == "APIKey"
    assert client.get("/optional").json() == {"msg": "Create an account first"}


# --- OAuth2 and OpenID Connect ---------------------------------------------------------

oauth_app = FastAPI()
reusable_oauth2 = OAuth2(
    flows={"password": {"tokenUrl": "token", "scopes": {"read:users": "Read the users"}}}
)
password_bearer = OAuth2PasswordBearer(tokenUrl="/token", auto_error=False)
code_bearer = OAuth2AuthorizationCodeBearer(authorizationUrl="authorize", tokenUrl="token")
oid = OpenIdConnect(openIdConnectUrl="/openid")


@oauth_app.get("/oauth2")
def read_oauth2(current_user: User = Depends(user_from(reusable_oauth2))):
    return current_user


@oauth_app.get("/password")
async def read_password(token: str | None = Security(password_bearer)):
    if token is None:
        return {"msg": "Create an account first"}
    return {"token": token}


@oauth_app.get("/items/")
async def read_items(token: str | None = Security(code_bearer)):
    return {"token": token}


@oauth_app.get("/openid")
def read_openid(current_user: User = Depends(user_from(oid))):
    return current_user


def test_security_oauth2_returns_the_whole_header():
    client = TestClient(oauth_app)
    for path in ("/oauth2", "/openid"):
        response = client.get(path, headers={"Authorization": "Bearer footokenbar"})
        assert response.json() == {"username": "Bearer footokenbar"}
        response = client.get(path, headers={"Authorization": "Other footokenbar"})
        assert response.json() == {"username": "Other footokenbar"}
        response = client.get(path)
        assert response.status_code == 401, response.text
        assert response.json() == {"detail": "Not authenticated"}
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_security_oauth2_bearers():
    client = TestClient(oauth_app)
    assert client.get("/items/").json() == {"detail": "Not authenticated"}
    response = client.get("/items", headers={"Authorization": "Non-existent testtoken"})
    assert response.status_code == 401, response.text
    response = client.get("/items", headers={"Authorization": "Bearer  testtoken "})
    assert response.json() == {"token": "testtoken"}
    response = client.get("/password", headers={"Authorization": "Other footokenbar"})
    assert response.json() == {"msg": "Create an account first"}
    response = client.get("/password", headers={"Authorization": "Bearer testtoken"})
    assert response.json() == {"token": "testtoken"}


# --- SecurityScopes -------------------------------------------------------------------


def test_security_scopes_reach_the_scheme_user():
    app = FastAPI()
    seen = []

    def get_user(security_scopes: SecurityScopes, token: str = Depends(password_bearer)):
        seen.append(security_scopes.scope_str)
        return token

    @app.get("/me")
    def me(user: str = Security(get_user, scopes=["me", "items"])):
        return {"user": user}

    response = TestClient(app).get("/me", headers={"Authorization": "Bearer t"})
    assert response.json() == {"user": "t"}
    assert seen == ["me items"]


def test_security_scopes_dependency_called_once():
    calls = {"count": 0}

    def get_db():
        calls["count"] += 1
        return f"db_{calls['count']}"

    def get_user(db: str = Depends(get_db)):
        return "user"

    app = FastAPI()

    @app.get("/")
    def endpoint(db: str = Depends(get_db), user: str = Security(get_user, scopes=["read"])):
        return {"db": db}

    assert TestClient(app).get("/").status_code == 200
    assert calls["count"] == 1


# --- OAuth2PasswordRequestForm (FastAPI's tests/test_security_oauth2.py, login part) ---------

login_app = FastAPI()


@login_app.post("/login")
def login(form_data: "OAuth2PasswordRequestFormStrict" = Depends()):  # noqa: UP037 - as the peer
    # The peer returns form_data itself; serialising a plain object returned by an HTTP
    # endpoint belongs to the HTTP layer's response handling (not this harness's subject).
    return jsonable_encoder(form_data)


@login_app.post("/login-lenient")
def login_lenient(form_data: OAuth2PasswordRequestForm = Depends()):
    return {"username": form_data.username, "scopes": form_data.scopes}


def test_strict_login_no_data():
    response = TestClient(login_app).post("/login")
    assert response.status_code == 422
    assert [(e["type"], e["loc"]) for e in response.json()["detail"]] == [
        ("missing", ["body", "grant_type"]),
        ("missing", ["body", "username"]),
        ("missing", ["body", "password"]),
    ]


@pytest.mark.parametrize("grant_type", ["incorrect", "passwordblah", "blahpassword"])
def test_strict_login_incorrect_grant_type(grant_type: str):
    response = TestClient(login_app).post(
        "/login", data={"username": "johndoe", "password": "secret", "grant_type": grant_type}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("string_pattern_mismatch", ["body", "grant_type"])


def test_strict_login_correct_grant_type():
    response = TestClient(login_app).post(
        "/login",
        data={"username": "johndoe", "password": "secret", "grant_type": "password"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "grant_type": "password",
        "username": "johndoe",
        "password": "secret",
        "scopes": [],
        "client_id": None,
        "client_secret": None,
    }
    response = TestClient(login_app).post(
        "/login-lenient", data={"username": "ann", "password": "x", "scope": "me items"}
    )
    assert response.json() == {"username": "ann", "scopes": ["me", "items"]}
