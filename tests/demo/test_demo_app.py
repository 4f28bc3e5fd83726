"""The chat demo app in process (tether.testclient, memory broker): pages, API, channels rules."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tether.demo import app as demo_module
from tether.demo.app import create_app
from tether.testclient import TestClient, WebSocketDisconnect


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app("memory://")) as test_client:
        yield test_client


def frames_until(ws: Any, kind: str) -> dict[str, Any]:
    """Read frames until one of type ``kind`` (join/leave events may come in between)."""
    for _ in range(20):
        frame: dict[str, Any] = ws.receive_json()
        if frame["type"] == kind:
            return frame
    raise AssertionError(f"no {kind!r} frame")


def subscribe(ws: Any, channel: str, request_id: int, **extra: Any) -> dict[str, Any]:
    ws.send_json({"type": "subscribe", "channel": channel, "id": request_id, **extra})
    return frames_until(ws, "reply")


def say(client: TestClient, room: str, text: str, name: str = "Ada") -> Any:
    return client.post(f"/api/rooms/{room}/messages", json={"name": name, "text": text})


# -- pages --------------------------------------------------------------------------------------


def test_the_page_and_its_files_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script src="/_tether/channels.js">' in page.text
    script = client.get("/static/chat.js")
    assert script.headers["content-type"].startswith("text/javascript")
    assert "TetherChannels" in script.text
    assert client.get("/static/chat.css").headers["content-type"].startswith("text/css")
    library = client.get("/_tether/channels.js")
    assert library.status_code == 200 and "TetherChannels" in library.text


@pytest.mark.parametrize("name", ["index.html", "app.py", "..%2Fapp.py", "nothing.js"])
def test_only_the_page_files_are_served(client: TestClient, name: str) -> None:
    assert client.get(f"/static/{name}").status_code == 404


def test_the_page_needs_nothing_from_another_site(client: TestClient) -> None:
    for path in ("/", "/static/chat.js", "/static/chat.css", "/_tether/channels.js"):
        text = client.get(path).text
        assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text), path
        assert "@import" not in text and "url(http" not in text, path


def test_the_page_never_renders_user_text_as_html(client: TestClient) -> None:
    script = client.get("/static/chat.js").text
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script
    assert "document.write" not in script


# -- joining ------------------------------------------------------------------------------------


def test_join_accepts_and_normalises(client: TestClient) -> None:
    response = client.post("/api/join", json={"name": "  Ada \t Lovelace ", "room": " Lobby "})
    assert response.status_code == 200
    assert response.json() == {"name": "Ada Lovelace", "room": "lobby"}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"name": "", "room": "lobby"}, "Pick a name."),
        ({"name": "\u202e\u200b", "room": "lobby"}, "Pick a name."),
        ({"name": "x" * 25, "room": "lobby"}, "Names are at most 24 characters."),
        ({"name": 7, "room": "lobby"}, "Pick a name."),
        ({"name": "Ada", "room": ""}, "Pick a room."),
        ({"name": "Ada", "room": "two words"}, "Room names use letters"),
        ({"name": "Ada", "room": "-dash"}, "Room names use letters"),
        ({"name": "Ada", "room": "r" * 33}, "Room names are at most 32 characters."),
        ([1, 2], "The request body must be a JSON object."),
    ],
)
def test_join_refusals_say_why(client: TestClient, body: Any, detail: str) -> None:
    response = client.post("/api/join", json=body)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(detail)


def test_join_refuses_a_body_that_is_not_json(client: TestClient) -> None:
    response = client.post("/api/join", content=b"name=Ada")
    assert response.status_code == 422
    assert response.json() == {"detail": "The request body must be JSON."}


def test_limits_and_whoami(client: TestClient) -> None:
    assert client.get("/api/limits").json() == {"name": 24, "room": 32, "text": 500}
    who = client.get("/api/whoami").json()
    assert who["pid"] == os.getpid()
    assert who["node"].endswith(f"-{os.getpid()}")
    assert who["broker"] == "memory"
    assert client.get("/api/health").json()["ok"] is True


def test_the_broker_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(demo_module.BROKER_ENV, "memory://demo-env-test")
    with TestClient(create_app()) as client:
        assert client.get("/api/whoami").json()["broker"] == "memory"
    monkeypatch.setenv(demo_module.BROKER_ENV, "carrier-pigeon://coop")
    with pytest.raises(ValueError, match="unknown channels broker"):
        create_app()


def test_the_module_level_app_is_a_tether_app() -> None:
    from tether import Tether

    assert isinstance(demo_module.app, Tether)


# -- the WebSocket ------------------------------------------------------------------------------


def test_a_socket_needs_a_usable_name(client: TestClient) -> None:
    for query in ("", "?name=", "?name=" + "x" * 30):
        with (
            pytest.raises(WebSocketDisconnect) as caught,
            client.websocket_connect("/channels" + query) as ws,
        ):
            ws.receive_json()
        assert caught.value.code == 1008


def test_connected_frame_names_the_process(client: TestClient) -> None:
    with client.websocket_connect("/channels?name=Ada") as ws:
        hello = ws.receive_json()
    assert hello["type"] == "connected"
    assert hello["node"].endswith(f"-{os.getpid()}")


def test_messages_reach_the_room_with_their_author(client: TestClient) -> None:
    with client.websocket_connect("/channels?name=Bob") as ws:
        ws.receive_json()
        assert subscribe(ws, "room:lobby", 1)["result"]["recoverable"] is True
        response = say(client, "lobby", "  hello  ")
        assert response.status_code == 200
        pub = frames_until(ws, "pub")
    assert pub["offset"] == response.json()["offset"]
    assert pub["data"]["name"] == "Ada"
    assert pub["data"]["text"] == "hello"
    assert isinstance(pub["data"]["ts"], int)


@pytest.mark.parametrize(
    ("room", "body", "detail"),
    [
        ("lobby", {"name": "Ada", "text": "y" * 501}, "Messages are at most 500 characters"),
        ("lobby", {"name": "Ada", "text": "   "}, "Type a message first."),
        ("lobby", {"name": "Ada", "text": ["list"]}, "A message is text."),
        ("lobby", {"name": "x" * 40, "text": "hi"}, "Names are at most 24 characters."),
        ("LOB BY", {"name": "Ada", "text": "hi"}, "Room names use letters"),
    ],
)
def test_refused_messages_are_not_published(
    client: TestClient, room: str, body: dict[str, Any], detail: str
) -> None:
    response = client.post(f"/api/rooms/{room}/messages", json=body)
    assert response.status_code == 422
    assert response.json()["detail"].startswith(detail)
    with client.websocket_connect("/channels?name=Ada") as ws:
        ws.receive_json()
        ws.send_json({"type": "history", "channel": "room:lobby", "id": 1})
        assert frames_until(ws, "reply")["result"]["publications"] == []


def test_history_presence_and_join_events(client: TestClient) -> None:
    say(client, "tea", "first")
    say(client, "tea", "second", name="Bob")
    with client.websocket_connect("/channels?name=Ada") as ada:
        ada_id = ada.receive_json()["client"]
        subscribe(ada, "room:tea", 1)
        ada.send_json({"type": "history", "channel": "room:tea", "id": 2})
        history = frames_until(ada, "reply")["result"]
        assert [p["data"]["text"] for p in history["publications"]] == ["first", "second"]
        with client.websocket_connect("/channels?name=Cy") as cy:
            cy_id = cy.receive_json()["client"]
            subscribe(cy, "room:tea", 1)
            join = frames_until(ada, "join")
            while join["client"] != cy_id:
                join = frames_until(ada, "join")
            assert join["info"]["info"] == {"name": "Cy"}
            cy.send_json({"type": "presence", "channel": "room:tea", "id": 2})
            members = frames_until(cy, "reply")["result"]["members"]
            assert {c: m["info"]["name"] for c, m in members.items()} == {
                ada_id: "Ada",
                cy_id: "Cy",
            }
        leave = frames_until(ada, "leave")
        assert leave["client"] == cy_id


def test_a_returning_client_recovers_what_it_missed(client: TestClient) -> None:
    with client.websocket_connect("/channels?name=Ada") as ws:
        ws.receive_json()
        start = subscribe(ws, "room:night", 1)["result"]
    say(client, "night", "while you were away")
    say(client, "night", "and this too")
    with client.websocket_connect("/channels?name=Ada") as ws:
        ws.receive_json()
        since = {"offset": start["offset"], "epoch": start["epoch"]}
        result = subscribe(ws, "room:night", 1, since=since)["result"]
        assert result["recovered"] is True and result["replayed"] == 2
        texts = [frames_until(ws, "pub")["data"]["text"] for _ in range(2)]
    assert texts == ["while you were away", "and this too"]


def test_typing_pings_are_ephemeral_and_small(client: TestClient) -> None:
    with (
        client.websocket_connect("/channels?name=Ada") as ada,
        client.websocket_connect("/channels?name=Bob") as bob,
    ):
        ada.receive_json()
        bob.receive_json()
        assert subscribe(ada, "typing:lobby", 1)["result"]["recoverable"] is False
        subscribe(bob, "typing:lobby", 1)
        ping = {"name": "Bob", "client": "b", "typing": True}
        bob.send_json({"type": "publish", "channel": "typing:lobby", "data": ping, "id": 2})
        assert frames_until(ada, "pub")["data"] == ping
        big = {"name": "Bob", "junk": "z" * 600}
        bob.send_json({"type": "publish", "channel": "typing:lobby", "data": big, "id": 3})
        error = frames_until(bob, "error")
        assert error["id"] == 3 and "too large" in error["error"]["message"]
        bob.send_json({"type": "history", "channel": "typing:lobby", "id": 4})
        assert frames_until(bob, "reply")["result"]["publications"] == []


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ({"type": "subscribe", "channel": "admin:secrets"}, "the chat demo has no channel"),
        ({"type": "subscribe", "channel": "secrets"}, "the chat demo has no channel"),
        ({"type": "subscribe", "channel": "room:Lobby"}, "Room names are lower case."),
        ({"type": "subscribe", "channel": "room:a~b"}, "Room names use letters"),
        ({"type": "presence", "channel": "room:-x"}, "Room names use letters"),
        ({"type": "publish", "channel": "room:lobby", "data": {"text": "x"}}, "not allowed"),
    ],
)
def test_the_socket_refuses_what_the_page_never_asks_for(
    client: TestClient, frame: dict[str, Any], message: str
) -> None:
    with client.websocket_connect("/channels?name=Ada") as ws:
        ws.receive_json()
        ws.send_json({**frame, "id": 9})
        error = frames_until(ws, "error")
    assert error["id"] == 9
    assert error["error"]["code"] == "forbidden"
    assert message in error["error"]["message"]


async def test_the_announce_example_reaches_open_pages() -> None:
    from docs.examples.demo_announce import announce

    from tether.testclient import AsyncTestClient

    broker = "memory://demo-announce-test"
    async with (
        AsyncTestClient(create_app(broker)) as client,
        client.websocket_connect("/channels?name=Ada") as ws,
    ):
        await ws.receive_json()
        await ws.send_json({"type": "subscribe", "channel": "room:news", "id": 1})
        assert (await ws.receive_json())["type"] == "reply"
        offset = await announce(broker, "news", "Deploy at 18:00")
        pub = await ws.receive_json()
        while pub["type"] != "pub":
            pub = await ws.receive_json()
    assert pub["offset"] == offset
    assert pub["data"]["name"] == "announcer" and pub["data"]["text"] == "Deploy at 18:00"
