"""FastAPI's tests/test_dependency_after_yield_websockets.py and
test_dependency_yield_scope_websockets.py, written as the peer writes them (imports renamed).

One check differs: a connection-scoped ``yield`` dependency that needs a function-scoped one is
refused at registration with tether's ``ConfigurationError`` (docs/compat.md 21) where the
peer raises ``FastAPIError``; both name the two scopes.
"""

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any

import pytest

from tether import Depends, WebSocket
from tether import Tether as FastAPI
from tether.exceptions import ConfigurationError
from tether.testclient import TestClient


class Session:
    def __init__(self) -> None:
        self.data = ["foo", "bar", "baz"]
        self.open = True

    def __iter__(self) -> Generator[str, None, None]:
        for item in self.data:
            if self.open:
                yield item
            else:
                raise ValueError("Session closed")


@contextmanager
def acquire_session() -> Generator[Session, None, None]:
    session = Session()
    try:
        yield session
    finally:
        session.open = False


def dep_session() -> Any:
    with acquire_session() as s:
        yield s


def broken_dep_session() -> Any:
    with acquire_session() as s:
        s.open = False
        yield s


SessionDep = Annotated[Session, Depends(dep_session)]
BrokenSessionDep = Annotated[Session, Depends(broken_dep_session)]

app = FastAPI()


@app.websocket("/ws")
async def websocket_endpoint(websocket: WebSocket, session: SessionDep):
    await websocket.accept()
    for item in session:
        await websocket.send_text(f"{item}")


@app.websocket("/ws-broken")
async def websocket_endpoint_broken(websocket: WebSocket, session: BrokenSessionDep):
    await websocket.accept()
    for item in session:
        await websocket.send_text(f"{item}")  # pragma no cover


client = TestClient(app)


def test_websocket_dependency_after_yield():
    with client.websocket_connect("/ws") as websocket:
        data = websocket.receive_text()
        assert data == "foo"
        data = websocket.receive_text()
        assert data == "bar"
        data = websocket.receive_text()
        assert data == "baz"


def test_websocket_dependency_after_yield_broken():
    with pytest.raises(ValueError, match="Session closed"):
        with client.websocket_connect("/ws-broken"):
            pass  # pragma no cover


# --- yield dependency scopes on WebSockets ------------------------------------------------

global_context: ContextVar[dict[str, Any]] = ContextVar("global_context", default={})  # noqa: B039


class ScopedSession:
    def __init__(self) -> None:
        self.open = True


async def scoped_session() -> Any:
    s = ScopedSession()
    yield s
    s.open = False
    global_state = global_context.get()
    global_state["session_closed"] = True


SessionFuncDep = Annotated[ScopedSession, Depends(scoped_session, scope="function")]
SessionRequestDep = Annotated[ScopedSession, Depends(scoped_session, scope="request")]
SessionDefaultDep = Annotated[ScopedSession, Depends(scoped_session)]


class NamedSession:
    def __init__(self, name: str = "default") -> None:
        self.name = name
        self.open = True


def get_named_session(session: SessionRequestDep, session_b: SessionDefaultDep) -> Any:
    assert session is session_b
    named_session = NamedSession(name="named")
    yield named_session, session_b
    named_session.open = False
    global_state = global_context.get()
    global_state["named_session_closed"] = True


NamedSessionsDep = Annotated[tuple[NamedSession, ScopedSession], Depends(get_named_session)]


def get_named_func_session(session: SessionFuncDep) -> Any:
    named_session = NamedSession(name="named")
    yield named_session, session
    named_session.open = False
    global_state = global_context.get()
    global_state["named_func_session_closed"] = True


BrokenSessionsDep = Annotated[tuple[NamedSession, ScopedSession], Depends(get_named_func_session)]
NamedSessionsFuncDep = Annotated[
    tuple[NamedSession, ScopedSession], Depends(get_named_func_session, scope="function")
]

scopes_app = FastAPI()


@scopes_app.websocket("/function-scope")
async def function_scope(websocket: WebSocket, session: SessionFuncDep) -> Any:
    await websocket.accept()
    await websocket.send_json({"is_open": session.open})


@scopes_app.websocket("/request-scope")
async def request_scope(websocket: WebSocket, session: SessionRequestDep) -> Any:
    await websocket.accept()
    await websocket.send_json({"is_open": session.open})


@scopes_app.websocket("/sub")
async def get_sub(websocket: WebSocket, sessions: NamedSessionsDep) -> Any:
    await websocket.accept()
    await websocket.send_json(
        {"named_session_open": sessions[0].open, "session_open": sessions[1].open}
    )


@scopes_app.websocket("/named-function-scope")
async def get_named_function_scope(websocket: WebSocket, sessions: NamedSessionsFuncDep) -> Any:
    await websocket.accept()
    await websocket.send_json(
        {"named_session_open": sessions[0].open, "session_open": sessions[1].open}
    )


scopes_client = TestClient(scopes_app)


@pytest.mark.parametrize("path", ["/function-scope", "/request-scope"])
def test_scope(path: str) -> None:
    global_context.set({})
    global_state = global_context.get()
    with scopes_client.websocket_connect(path) as websocket:
        data = websocket.receive_json()
    assert data["is_open"] is True
    assert global_state["session_closed"] is True


def test_sub() -> None:
    global_context.set({})
    global_state = global_context.get()
    with scopes_client.websocket_connect("/sub") as websocket:
        data = websocket.receive_json()
    assert data["named_session_open"] is True
    assert data["session_open"] is True
    assert global_state["session_closed"] is True
    assert global_state["named_session_closed"] is True


def test_named_function_scope() -> None:
    global_context.set({})
    global_state = global_context.get()
    with scopes_client.websocket_connect("/named-function-scope") as websocket:
        data = websocket.receive_json()
    assert data["named_session_open"] is True
    assert data["session_open"] is True
    assert global_state["session_closed"] is True
    assert global_state["named_func_session_closed"] is True


def test_broken_scope() -> None:
    with pytest.raises(ConfigurationError, match='with scope "function"'):

        @scopes_app.websocket("/broken-scope")
        async def get_broken(websocket: WebSocket, sessions: BrokenSessionsDep) -> Any:
            pass  # pragma: no cover
