"""``Cookie()`` parameters and ``HTTPConnection.cookies`` read cookies with one parser."""

from __future__ import annotations

import pytest

from tether import Cookie, Request, Tether
from tether.testclient import TestClient


@pytest.mark.parametrize(
    "header",
    ['session="a\\"b"; theme=dark', 'session="\\012x"', "session=; =lone", "session=x=y; a=1"],
)
def test_cookie_parameter_matches_request_cookies(header: str) -> None:
    app = Tether()

    @app.get("/")
    async def read(
        request: Request, session: str | None = Cookie(default=None)
    ) -> dict[str, object]:
        return {"param": session, "cookies": request.cookies.get("session")}

    with TestClient(app) as client:
        body = client.get("/", headers={"cookie": header}).json()
    assert body["param"] == body["cookies"]
