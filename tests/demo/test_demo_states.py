"""The demo's connection states in Debian's Chromium (Playwright), with real servers.

A reload rejoins the room; while the server is away the badge says "reconnecting…" (not
"offline" within seconds); a send error is cleared once connected again; after a restart on
the memory broker the "server restarted" divider appears at once and the footer names the new
process; ``/favicon.ico`` is served. On Redis, a broker that goes away is shown as such, and a
message sent meanwhile gets the server's reason, not "cannot be reached".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from servers import RedisServer, uvicorn_process

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
WAIT_MS = 15000


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Any, url: str) -> Any:
    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.script_errors = errors
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    return page


def join(page: Any, name: str, room: str) -> None:
    page.fill("#name", name)
    page.fill("#room", room)
    page.click("#join-button")
    page.wait_for_selector('#status[data-state="connected"]')


def badge(page: Any) -> str:
    return str(page.get_attribute("#status", "data-state"))


def send(page: Any, text: str) -> None:
    page.fill("#text", text)
    page.click("#send")


def test_reload_reconnect_restart_and_favicon(browser: Any) -> None:
    with uvicorn_process("tether.demo.app:app", env={"TETHER_BROKER": "memory://"}) as demo:
        icon = browser.new_context().request.get(f"{demo.url}/favicon.ico")
        assert icon.status == 200 and icon.headers["content-type"] == "image/x-icon"
        assert icon.body()[:4] == b"\x00\x00\x01\x00"

        page = open_page(browser, demo.url)
        join(page, "ada", "lobby")
        page.reload()  # the tab had joined: it goes back to the room by itself
        page.wait_for_selector('#status[data-state="connected"]')
        assert page.is_hidden("#join-view") and page.is_visible("#chat-view")
        assert page.text_content("#room-title") == "#lobby"
        send(page, "before the restart")
        page.wait_for_selector("#messages .msg")
        page.wait_for_function("() => document.querySelector('#served-by').textContent !== '?'")
        first_pid = page.text_content("#served-by")

        demo.stop()
        page.wait_for_selector('#status[data-state="reconnecting"]')
        assert page.text_content("#status-text") == "reconnecting…"
        send(page, "while it is down")
        page.wait_for_selector("#send-error:not([hidden])")
        page.wait_for_timeout(3000)  # an observation window: the badge must not turn "offline"
        assert badge(page) == "reconnecting"

        demo.start()
        page.wait_for_selector('#status[data-state="connected"]', timeout=20000)
        assert page.is_hidden("#send-error")  # the failure is not true any more
        page.wait_for_selector("#messages .divider")  # at once, without a new message
        page.wait_for_function(
            "(pid) => document.querySelector('#served-by').textContent !== pid", arg=first_pid
        )
        assert page.script_errors == []


def test_a_broker_that_goes_away_is_shown_honestly(browser: Any) -> None:
    with RedisServer() as redis:
        env = {"TETHER_BROKER": f"{redis.url}?prefix=states"}
        with uvicorn_process("tether.demo.app:app", env=env) as demo:
            page = open_page(browser, demo.url)
            join(page, "bea", "lobby")
            redis.stop()
            page.wait_for_selector('#status[data-state="degraded"]')
            assert "message broker" in page.text_content("#status-text")
            send(page, "is anyone there")
            page.wait_for_selector("#send-error:not([hidden])")
            error = page.text_content("#send-error")
            assert "message broker" in error and "cannot be reached" not in error
            redis.start()
            page.wait_for_selector('#status[data-state="connected"]', timeout=20000)
            assert page.script_errors == []
