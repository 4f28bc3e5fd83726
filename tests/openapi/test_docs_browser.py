"""/docs and /redoc in Debian's Chromium (Playwright), served by uvicorn, with no network.

Swagger UI runs one request through "Try it out" against the documented example app and shows
the filtered response; ReDoc renders the operations. Every request the pages make is checked:
anything not addressed to the app itself is blocked and fails the test, so the pages work
offline. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from servers import ServerProcess, uvicorn_process

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
WAIT_MS = 20000


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with uvicorn_process("docs.examples.http_items:app") as srv:
        yield srv


@pytest.fixture
def page(server: ServerProcess) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        own = f"http://127.0.0.1:{server.port}/"
        page.outside = []  # requests to anywhere but the app: blocked and recorded
        page.errors = []

        def route(request_route: Any) -> None:
            url = request_route.request.url
            if url.startswith(own) or url.startswith("data:") or url.startswith("blob:"):
                request_route.continue_()
            else:
                page.outside.append(url)
                request_route.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.base = own
        try:
            yield page
        finally:
            browser.close()


def test_swagger_ui_try_it_out_runs_a_request(page: Any) -> None:
    page.goto(page.base + "docs")
    operation = page.locator("#operations-items-read_item_items__item_id__get")
    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    operation.locator('input[placeholder="item_id"]').fill("1")
    operation.locator(".execute").click()
    body = operation.locator(".live-responses-table .response-col_description pre").first
    body.wait_for()
    shown = json.loads(body.inner_text())
    assert shown == {"id": 1, "name": "Hammer", "price": 9.5}  # owner_notes filtered out
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    assert status.inner_text().strip() == "200"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "openapi-swagger-ui.png"))
    assert page.outside == [] and page.errors == []


def test_redoc_renders_the_operations(page: Any) -> None:
    page.goto(page.base + "redoc")
    page.get_by_text("Read one item; its owner's notes are never sent.").first.wait_for()
    page.get_by_text("Create an item (needs a bearer token).").first.wait_for()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "openapi-redoc.png"))
    assert page.outside == [] and page.errors == []
