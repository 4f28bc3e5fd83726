"""EventSource in Debian's Chromium (Playwright) against real uvicorn servers.

- The live feed (docs/examples/sse_feed.py) on Redis: the server is stopped gracefully, then
  killed, while events keep being published (by an Emitter while it is down); the page ends
  with every event exactly once. With a short history the page gets an explicit reset instead
  of a silent hole.
- The token-streaming example (docs/examples/llm_stream.py): a reload mid-answer shows the
  answer so far and continues to the same full text; a second tab follows the same answer;
  cancel stops the producer.
"""

from __future__ import annotations

import asyncio
import importlib.util
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType
from typing import Any

import httpx
import pytest

from servers import ROOT, ServerProcess, redis_url, uvicorn_process, uvicorn_thread
from tether.channels import ChannelOptions, Emitter

pytestmark = [
    pytest.mark.integration,
    pytest.mark.redis,
    pytest.mark.browser,
    pytest.mark.timeout(120),
]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"]
WAIT_MS = 20000


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
def broker() -> Iterator[str]:
    prefix = f"sse-browser-{secrets.token_hex(6)}"
    yield f"{redis_url()}?prefix={prefix}"

    async def forget() -> None:
        import redis.asyncio as redis

        client = redis.Redis.from_url(redis_url())
        try:
            keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()

    in_thread(forget())


def in_thread(coroutine: Any) -> None:
    """Run a coroutine to its end off the test's thread (Playwright's loop runs on this one)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coroutine).result()


def open_page(browser: Any, url: str) -> Any:
    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.script_errors = errors
    page.set_default_timeout(WAIT_MS)
    page.goto(url)
    return page


def emit(broker: str, numbers: range, history: int) -> None:
    """Publish while no server runs, as another process would."""

    async def run() -> None:
        options = ChannelOptions(history_size=history, history_ttl=3600.0)
        async with Emitter(broker, namespaces={"feed": options}) as emitter:
            for n in numbers:
                await emitter.publish("feed:main", {"n": n})

    in_thread(run())


def post(server: ServerProcess, numbers: range) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for n in numbers:
            assert client.post("/publish", params={"n": n}).status_code == 200


def wait_received(page: Any, count: int) -> list[int]:
    page.wait_for_function("(count) => window.feed.received.length >= count", arg=count)
    return list(page.evaluate("window.feed.received"))


def feed_server(broker: str, history: int) -> Any:
    env = {"TETHER_BROKER": broker, "FEED_HISTORY": str(history)}
    return uvicorn_process("docs.examples.sse_feed:app", env=env)


def test_feed_survives_graceful_stop_and_kill_with_every_event_once(
    browser: Any, broker: str
) -> None:
    with feed_server(broker, 1000) as server:
        page = open_page(browser, server.url + "/")
        page.wait_for_function("window.feed.opens >= 1")
        post(server, range(1, 11))
        assert wait_received(page, 10) == list(range(1, 11))

        began = time.monotonic()
        server.stop()  # SIGTERM: the drain ends the open stream, so uvicorn need not wait
        assert server.proc is not None and server.proc.returncode is not None
        assert time.monotonic() - began < 8
        emit(broker, range(11, 21), 1000)
        server.start()
        post(server, range(21, 26))
        wait_received(page, 25)

        server.kill()  # no goodbye: the connection just breaks
        emit(broker, range(26, 31), 1000)
        server.start()
        post(server, range(31, 36))
        received = wait_received(page, 35)
        post(server, range(36, 37))
        received = wait_received(page, 36)

    assert received == list(range(1, 37))
    assert page.evaluate("window.feed.resets") == []
    assert page.evaluate("window.feed.opens") >= 3
    assert page.script_errors == []


def test_feed_says_reset_when_history_cannot_cover_the_gap(browser: Any, broker: str) -> None:
    with feed_server(broker, 5) as server:
        page = open_page(browser, server.url + "/")
        page.wait_for_function("window.feed.opens >= 1")
        post(server, range(1, 4))
        wait_received(page, 3)
        server.kill()
        emit(broker, range(4, 21), 5)  # history keeps 16-20 only
        server.start()
        page.wait_for_function("window.feed.resets.length === 1")
        post(server, range(21, 23))
        received = wait_received(page, 5)
    assert received == [1, 2, 3, 21, 22]
    (reset,) = page.evaluate("window.feed.resets")
    assert reset["offset"] == 20


def _load_llm() -> ModuleType:
    path = ROOT / "docs" / "examples" / "llm_stream.py"
    spec = importlib.util.spec_from_file_location("docs_examples_llm_stream", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def llm() -> Iterator[tuple[ModuleType, str]]:
    module = _load_llm()
    module.TOKEN_DELAY = 0.1  # a 60-token answer takes 6 s: long enough to reload mid-way
    with uvicorn_thread(module.app) as url:
        yield module, url


def expected_answer(prompt: str, tokens: int) -> str:
    words = prompt.split()
    return "".join(f"{words[i % len(words)]}{i} " for i in range(tokens))


def test_llm_answer_survives_a_reload_and_a_second_tab_follows(
    browser: Any, llm: tuple[ModuleType, str]
) -> None:
    module, url = llm
    page = open_page(browser, url + "/")
    page.click("#ask")
    page.wait_for_function("document.getElementById('answer').textContent.length > 40")
    page.reload()  # mid-answer: the page starts over and asks for the answer since start
    second = open_page(browser, page.url)  # same #answer-id: follows the same answer
    assert page.evaluate("document.getElementById('status').textContent") == "streaming"
    for tab in (page, second):
        tab.wait_for_function("document.getElementById('status').textContent === 'done'")
    full = expected_answer("tell me about streams", 60)
    assert page.text_content("#answer") == full
    assert second.text_content("#answer") == full
    assert module.producers == {}
    assert page.script_errors == [] and second.script_errors == []


def test_llm_cancel_stops_the_producer(browser: Any, llm: tuple[ModuleType, str]) -> None:
    module, url = llm
    page = open_page(browser, url + "/")
    page.evaluate(
        """async () => {
            const r = await fetch('/answers', {method: 'POST',
                headers: {'content-type': 'application/json'},
                body: JSON.stringify({prompt: 'long story', tokens: 100000})});
            const {id} = await r.json();
            location.hash = id;
            location.reload();
        }"""
    )
    page.wait_for_function("document.getElementById('answer').textContent.length > 20")
    assert len(module.producers) == 1
    (task,) = module.producers.values()
    page.click("#cancel")
    page.wait_for_function("document.getElementById('status').textContent === 'cancelled'")
    deadline = time.monotonic() + 10
    while not task.done() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert task.cancelled()
    assert module.producers == {}


def test_llm_json_lines_follow(llm: tuple[ModuleType, str]) -> None:
    import json

    _, url = llm
    with httpx.Client(base_url=url, timeout=10) as client:
        answer_id = client.post("/answers", json={"prompt": "a b", "tokens": 12}).json()["id"]
        text = ""
        with client.stream("GET", f"/answers/{answer_id}/lines?since=start") as response:
            for line in response.iter_lines():
                frame = json.loads(line)
                if frame["type"] != "pub":
                    continue
                text += frame["data"].get("text", "")
                if frame["data"].get("done"):
                    break
    assert text == expected_answer("a b", 12)


def test_llm_answer_produced_on_one_worker_is_followed_on_another(broker: str) -> None:
    """Two workers on one Redis: the producer runs on A, a JSON-lines follower on B reads the
    whole answer from the start; a cancel sent to B is published on the answer's channel,
    which A's producer follows (that it then stops is checked in process, above)."""
    import json

    env = {"TETHER_BROKER": broker, "LLM_TOKEN_DELAY": "0.02"}
    target = "docs.examples.llm_stream:app"
    with uvicorn_process(target, env=env) as one, uvicorn_process(target, env=env) as two:

        def follow(answer_id: str, until: str) -> list[dict[str, Any]]:
            frames = []
            with (
                httpx.Client(base_url=two.url, timeout=20) as client,
                client.stream("GET", f"/answers/{answer_id}/lines?since=start") as response,
            ):
                for line in response.iter_lines():
                    frame = json.loads(line)
                    if frame["type"] == "pub":
                        frames.append(frame["data"])
                        if until in frame["data"]:
                            break
            return frames

        with httpx.Client(base_url=one.url, timeout=20) as client:
            answer = client.post("/answers", json={"prompt": "x y", "tokens": 30}).json()["id"]
        frames = follow(answer, "done")
        assert "".join(f.get("text", "") for f in frames) == expected_answer("x y", 30)

        with httpx.Client(base_url=one.url, timeout=20) as client:
            endless = client.post("/answers", json={"prompt": "z", "tokens": 10**6}).json()["id"]
        with httpx.Client(base_url=two.url, timeout=20) as client:
            assert client.post(f"/answers/{endless}/cancel").status_code == 200
        frames = follow(endless, "cancel")
        assert frames[-1] == {"cancel": True}
