"""Resumable LLM token streaming: a producer task publishes an answer to a channel, browsers
follow it over Server-Sent Events (docs/streaming.md, "Token streaming that survives a reload").

- ``POST /answers`` with ``{"prompt": ...}`` starts a producer task and returns the answer id.
  The task runs the model (here :func:`fake_model`, a token generator standing in for a real
  one) and publishes its tokens in small batches to the channel ``answer:<id>``, whose history
  is bounded and expires (``history_size``, ``history_ttl``).
- ``GET /answers/<id>/events`` follows the answer over SSE. The page asks for ``?since=start``,
  so a reload shows the answer so far, then continues live; a second tab does the same; a
  dropped connection resumes by ``Last-Event-ID`` without a duplicate or a hole.
- ``GET /answers/<id>/lines``: the same as JSON lines, for ``fetch`` streams and curl.
- ``POST /answers/<id>/cancel`` publishes ``{"cancel": true}`` on the answer's channel. The
  producer follows its own channel (on whatever worker it runs) and stops when it sees it; the
  followers see it too and stop.

Run it: ``tether run docs.examples.llm_stream:app`` (``--broker redis://...`` for several
workers), then open http://127.0.0.1:8000/.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from typing import Any

from pydantic import BaseModel

from tether import HTTPException, Tether
from tether.channels import ChannelOptions, Channels
from tether.responses import HTMLResponse

BATCH_TOKENS = 8  # publish at most this many tokens at once...
BATCH_SECONDS = 0.05  # ...or what arrived within this time, whichever comes first
TOKEN_DELAY = float(os.environ.get("LLM_TOKEN_DELAY", "0.02"))

channels = Channels(
    namespaces={
        "answer": ChannelOptions(history_size=2000, history_ttl=600.0),
    }
)
app = Tether(lifespan=channels.lifespan)
producers: dict[str, asyncio.Task[None]] = {}


async def fake_model(prompt: str, tokens: int = 60) -> AsyncIterator[str]:
    """Stands in for a model: ``tokens`` numbered words about the prompt, one by one."""
    words = prompt.split() or ["nothing"]
    for index in range(tokens):
        await asyncio.sleep(TOKEN_DELAY)
        yield f"{words[index % len(words)]}{index} "


class Prompt(BaseModel):
    prompt: str
    tokens: int = 60


class _Watcher:
    """A hub subscriber that is not a browser: it cancels the producer on ``{"cancel": true}``.

    Subscribing it to the answer's own channel makes a cancel published on any worker reach
    the worker that runs the producer, through the broker.
    """

    def __init__(self, task: asyncio.Task[None]) -> None:
        self.task = task

    async def send(self, message: dict[str, Any]) -> None:
        if '"cancel":true' in message.get("text", ""):
            self.task.cancel()

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        return None


async def produce(answer_id: str, prompt: str, tokens: int) -> None:
    """Run the model and publish its tokens to ``answer:<id>`` in batches; end with done."""
    channel = f"answer:{answer_id}"
    loop = asyncio.get_running_loop()
    batch: list[str] = []
    started = loop.time()
    try:
        async for token in fake_model(prompt, tokens):
            batch.append(token)
            if len(batch) >= BATCH_TOKENS or loop.time() - started >= BATCH_SECONDS:
                await channels.publish(channel, {"text": "".join(batch)})
                batch, started = [], loop.time()
        if batch:
            await channels.publish(channel, {"text": "".join(batch)})
        await channels.publish(channel, {"done": True})
    finally:
        producers.pop(answer_id, None)


@app.post("/answers")
async def start_answer(body: Prompt) -> dict[str, str]:
    """Start answering ``body.prompt``; the answer streams at ``/answers/<id>/events``."""
    answer_id = secrets.token_urlsafe(8)
    task = asyncio.get_running_loop().create_task(produce(answer_id, body.prompt, body.tokens))
    producers[answer_id] = task
    watcher = _Watcher(task)
    await channels.subscribe(watcher, f"answer:{answer_id}", raw=True)
    task.add_done_callback(lambda _: asyncio.ensure_future(channels.disconnect(watcher)))
    return {"id": answer_id}


@app.post("/answers/{answer_id}/cancel")
async def cancel_answer(answer_id: str) -> dict[str, bool]:
    """Stop the producer wherever it runs; followers see ``{"cancel": true}`` and stop too."""
    if not answer_id.replace("-", "").replace("_", "").isalnum():
        raise HTTPException(status_code=404)
    await channels.publish(f"answer:{answer_id}", {"cancel": True})
    return {"cancelled": True}


def _answer_channel(request: Any) -> list[str]:
    return [f"answer:{request.path_params['answer_id']}"]


app.add_route("/answers/{answer_id}/events", channels.sse_endpoint(_answer_channel, retry=500))
app.add_route("/answers/{answer_id}/lines", channels.sse_endpoint(_answer_channel, format="jsonl"))

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>tether: resumable answer</title>
<style>body{font:16px system-ui;margin:2em;max-width:50em}#answer{white-space:pre-wrap;
border:1px solid #ccc;padding:1em;min-height:6em}</style>
<h1>Ask the fake model</h1>
<input id="prompt" value="tell me about streams" size="40">
<button id="ask">Ask</button> <button id="cancel">Cancel</button>
<p>Status: <span id="status">idle</span></p>
<div id="answer"></div>
<script>
const answer = document.getElementById("answer");
const status = document.getElementById("status");
let source = null;

function follow(id) {
  if (source) source.close();
  answer.textContent = "";
  status.textContent = "streaming";
  // since=start: a reload (or a second tab) replays the answer so far, then goes on live.
  // On a dropped connection the browser resumes by Last-Event-ID by itself.
  source = new EventSource(`/answers/${id}/events?since=start`);
  source.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.text) answer.textContent += message.text;
    if (message.done || message.cancel) {
      status.textContent = message.done ? "done" : "cancelled";
      source.close();
    }
  };
  source.addEventListener("reset", () => {
    // History no longer holds the whole answer: say so rather than show a part of it.
    answer.textContent = "";
    status.textContent = "expired";
    source.close();
  });
}

document.getElementById("ask").onclick = async () => {
  const prompt = document.getElementById("prompt").value;
  const response = await fetch("/answers", {
    method: "POST", headers: {"content-type": "application/json"},
    body: JSON.stringify({prompt}),
  });
  const {id} = await response.json();
  location.hash = id;
  follow(id);
};
document.getElementById("cancel").onclick = () => {
  const id = location.hash.slice(1);
  if (id) fetch(`/answers/${id}/cancel`, {method: "POST"});
};
if (location.hash.length > 1) follow(location.hash.slice(1));
</script>
"""


@app.get("/", response_class=HTMLResponse)
async def page() -> HTMLResponse:
    """The demo page: ask, watch the answer stream, reload, open a second tab, cancel."""
    return HTMLResponse(PAGE)
