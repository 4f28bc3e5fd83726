"""The chat demo in Debian's Chromium (driven by Playwright), on Redis, through a server restart.

Two pages chat in one room and see each other online; the server is stopped, a message is
published by an :class:`~tether.channels.Emitter` while it is down, the server starts again
on the same port, and both pages reconnect and show the message they missed. Screenshots go
to ``test-artifacts/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from servers import ServerProcess, uvicorn_process

pytestmark = [pytest.mark.integration, pytest.mark.redis, pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 15000


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def demo(demo_redis_broker: str) -> Iterator[ServerProcess]:
    with uvicorn_process("tether.demo.app:app", env={"TETHER_BROKER": demo_redis_broker}) as srv:
        yield srv


def open_page(browser: Any, url: str) -> Any:
    """A page in a context of its own (separate storage), failing on any script error."""
    context = browser.new_context(viewport={"width": 1100, "height": 680})
    page = context.new_page()
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


def wait_online(page: Any, names: list[str]) -> None:
    page.wait_for_function(
        """(names) => {
            const shown = [...document.querySelectorAll('#people .person')].map(e => e.textContent);
            return names.every(n => shown.includes(n));
        }""",
        arg=names,
    )


def say(page: Any, text: str) -> None:
    page.fill("#text", text)
    page.click("#send")
    page.wait_for_function("() => document.querySelector('#text').value === ''")


def wait_message(page: Any, text: str) -> None:
    page.wait_for_function(
        "(t) => [...document.querySelectorAll('#messages .msg .text')]"
        ".some(e => e.textContent === t)",
        arg=text,
    )


def message_texts(page: Any) -> list[str]:
    return list(
        page.eval_on_selector_all("#messages .msg .text", "els => els.map(e => e.textContent)")
    )


def publish_while_down(broker: str, room: str, text: str) -> None:
    """Publish as a process without a server would (its own loop: Playwright owns this one)."""
    from tether.channels import Emitter
    from tether.demo.app import room_namespaces

    async def emit() -> None:
        async with Emitter(broker, namespaces=room_namespaces()) as emitter:
            await emitter.publish(f"room:{room}", {"name": "night shift", "text": text, "ts": 0})

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, emit()).result(timeout=10)


def test_two_pages_chat_and_recover_after_a_restart(
    browser: Any, demo: ServerProcess, demo_redis_broker: str, artifacts: Path
) -> None:
    ada = open_page(browser, demo.url)
    ada.screenshot(path=str(artifacts / "demo-join.png"))
    join(ada, "Ada", "e2e")
    bob = open_page(browser, demo.url + "/?room=e2e")
    join(bob, "Bob", "e2e")
    wait_online(ada, ["Ada", "Bob"])
    wait_online(bob, ["Ada", "Bob"])

    say(ada, "Hello Bob, can you read this?")
    wait_message(bob, "Hello Bob, can you read this?")
    bob.type("#text", "Loud and clear")
    ada.wait_for_selector("#typing:has-text('Bob is typing')")
    bob.click("#send")
    wait_message(ada, "Loud and clear")
    ada.screenshot(path=str(artifacts / "demo-chat-ada.png"))
    bob.screenshot(path=str(artifacts / "demo-chat-bob.png"))

    demo.stop()
    ada.wait_for_selector('#status:not([data-state="connected"])')
    missed = "Sent while the server was down"
    publish_while_down(demo_redis_broker, "e2e", missed)
    ada.screenshot(path=str(artifacts / "demo-reconnecting.png"))
    demo.start()

    ada.wait_for_selector('#status[data-state="connected"]')
    bob.wait_for_selector('#status[data-state="connected"]')
    wait_message(ada, missed)
    wait_message(bob, missed)
    ada.wait_for_selector("#notice:has-text('recovered')")
    say(bob, "Welcome back")
    wait_message(ada, "Welcome back")
    wait_online(ada, ["Ada", "Bob"])
    ada.screenshot(path=str(artifacts / "demo-recovered.png"))

    expected = ["Hello Bob, can you read this?", "Loud and clear", missed, "Welcome back"]
    assert message_texts(ada) == expected
    assert message_texts(bob) == expected
    assert ada.script_errors == [] and bob.script_errors == []


def test_a_new_page_sees_history_and_user_text_stays_text(
    browser: Any, demo: ServerProcess, artifacts: Path
) -> None:
    ada = open_page(browser, demo.url)
    join(ada, "Ada", "history")
    trap = '<img src=x onerror="window.pwned=1"><b>bold?</b>'
    say(ada, "first")
    say(ada, trap)

    late = open_page(browser, demo.url + "/?room=history")
    join(late, "<script>x</script>", "history")
    wait_message(late, trap)
    assert message_texts(late) == ["first", trap]
    wait_online(ada, ["<script>x</script>"])
    assert late.evaluate("() => window.pwned === undefined")
    assert late.query_selector("#messages b") is None
    assert ada.query_selector("#people script") is None
    late.screenshot(path=str(artifacts / "demo-history.png"))


def test_refusals_are_shown_in_the_page(browser: Any, demo: ServerProcess, artifacts: Path) -> None:
    page = open_page(browser, demo.url)
    page.fill("#name", "x" * 40)
    page.fill("#room", "lobby")
    page.click("#join-button")
    page.wait_for_selector("#join-error:has-text('at most 24 characters')")
    page.fill("#name", "Ada")
    page.fill("#room", "no spaces please")
    page.click("#join-button")
    page.wait_for_selector("#join-error:has-text('Room names use letters')")
    page.screenshot(path=str(artifacts / "demo-join-refused.png"))

    join(page, "Ada", "limits")
    page.fill("#text", "y" * 501)
    page.wait_for_selector("#counter.over")
    page.click("#send")
    page.wait_for_selector("#send-error:has-text('at most 500 characters')")
    assert page.input_value("#text") == "y" * 501  # kept, so it can be shortened
    page.screenshot(path=str(artifacts / "demo-message-refused.png"))
    assert message_texts(page) == []


def test_a_restart_on_the_memory_broker_is_announced_not_hidden(
    browser: Any, artifacts: Path
) -> None:
    with uvicorn_process("tether.demo.app:app", env={"TETHER_BROKER": "memory://"}) as demo:
        page = open_page(browser, demo.url)
        join(page, "Ada", "volatile")
        say(page, "before the restart")
        demo.stop()
        page.wait_for_selector('#status:not([data-state="connected"])')
        demo.start()
        page.wait_for_selector('#status[data-state="connected"]')
        page.wait_for_selector("#notice:has-text('could not be recovered')")
        say(page, "after the restart")
        wait_message(page, "after the restart")
        page.screenshot(path=str(artifacts / "demo-memory-restart.png"))
        items = page.eval_on_selector_all(
            "#messages > li", "els => els.map(e => e.className + ':' + e.textContent)"
        )
    assert [item.split(":")[0] for item in items] == ["msg mine", "divider", "msg mine"]
    assert "before the restart" in items[0] and "after the restart" in items[2]
    assert page.script_errors == []
