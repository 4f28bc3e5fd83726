"""The npm ``centrifuge`` SDK's browser build in Debian's Chromium (through Playwright).

The test serves the page and the SDK file (from the npm_sdk install) next to the endpoint;
two pages connect with tokens, subscribe, publish, call an RPC and read presence, one
in JSON and one in Protobuf.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cf_app import make_app
from cf_helpers import token

from servers import uvicorn_thread
from tether.responses import HTMLResponse, Response

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.timeout(90)]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]

PAGE = """<!doctype html><meta charset="utf-8"><title>centrifuge in tether</title>
<script src="/sdk/{script}"></script>
<script>
const encode = (v) => {binary} ? new TextEncoder().encode(JSON.stringify(v)) : v;
const decode = (d) => {binary} ? JSON.parse(new TextDecoder().decode(d)) : d;
window.seen = [];
window.run = async (token, name) => {{
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/connection/websocket';
  const client = new Centrifuge(url, {{ token }});
  client.connect();
  await client.ready(5000);
  const sub = client.newSubscription('chat:browser', {{ joinLeave: true }});
  sub.on('publication', (ctx) => window.seen.push(decode(ctx.data)));
  sub.subscribe();
  await sub.ready(5000);
  window.publish = (text) => sub.publish(encode({{ from: name, text }}));
  window.presence = async () => Object.values((await sub.presence()).clients).map((c) => c.user).sort();
  window.rpc = async () => decode((await client.rpc('sum', encode({{ a: 40, b: 2 }}))).data);
  return true;
}};
</script>"""


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_json_and_protobuf_pages_chat_through_the_endpoint(browser: Any, npm_sdk: Path) -> None:
    """ann's page uses the JSON build, ben's the Protobuf build: one channel, both formats."""
    app, _ = make_app()
    dist = npm_sdk / "centrifuge" / "dist"

    @app.get("/")
    def page(build: str) -> HTMLResponse:
        binary = "true" if "protobuf" in build else "false"
        return HTMLResponse(PAGE.format(script=build, binary=binary))

    @app.get("/sdk/{name}")
    def script(name: str) -> Response:
        assert name in ("centrifuge.js", "centrifuge.protobuf.js")
        return Response((dist / name).read_bytes(), media_type="text/javascript")

    with uvicorn_thread(app) as url:
        pages = []
        for user, build in (("ann", "centrifuge.js"), ("ben", "centrifuge.protobuf.js")):
            context = browser.new_context()
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
            page.goto(f"{url}/?build={build}")
            assert page.evaluate("([t, n]) => window.run(t, n)", [token(user), user])
            pages.append((page, errors))
        (ann, ann_errors), (ben, ben_errors) = pages
        assert ann.evaluate("() => window.presence()") == ["ann", "ben"]
        assert ben.evaluate("() => window.presence()") == ["ann", "ben"]
        ann.evaluate("() => window.publish('hello from ann')")
        ann.wait_for_function("() => window.seen.length === 1", timeout=10000)
        ben.evaluate("() => window.publish('hello from ben')")
        for page, _ in pages:
            page.wait_for_function("() => window.seen.length === 2", timeout=10000)
            assert page.evaluate("() => window.seen.map((m) => m.text)") == [
                "hello from ann",
                "hello from ben",
            ]
        assert ben.evaluate("() => window.rpc()") == {"sum": 42, "user": "ben"}
        assert ann.evaluate("() => window.rpc()") == {"sum": 42, "user": "ann"}
        assert ann_errors == [] and ben_errors == []


def test_the_example_chat_page_on_the_npm_client(browser: Any, npm_sdk: Path) -> None:
    """docs/examples/centrifuge_app.py's page; its CDN script is served from the npm install."""
    from docs.examples import centrifuge_app

    sdk = (npm_sdk / "centrifuge" / "dist" / "centrifuge.js").read_bytes()
    with uvicorn_thread(centrifuge_app.app) as url:
        pages = []
        for name in ("ann", "ben"):
            page = browser.new_context().new_page()
            page.route(
                centrifuge_app.CDN,
                lambda route: route.fulfill(body=sdk, content_type="text/javascript"),
            )
            page.goto(url + "/")
            page.fill("#name", name)
            page.click("#join button")
            page.wait_for_selector("#say:not([hidden])")
            pages.append(page)
        ann, ben = pages
        ann.wait_for_function("() => document.getElementById('online').textContent === 'ann, ben'")
        ann.fill("#text", "hi ben")
        ann.click("#say button")
        for page in pages:
            page.wait_for_function(
                "() => document.getElementById('log').textContent.includes('ann: hi ben')"
            )
