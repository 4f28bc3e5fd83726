// Drives tether-channels.js against a scripted fake WebSocket (run by test_js_client.py).
"use strict";
const assert = require("assert");
const path = require("path");

const sockets = [];
const timers = [];
global.setTimeout = (fn, delay) => { timers.push({ fn, delay }); return timers.length; };
global.setInterval = () => 0;
global.clearInterval = () => {};

class FakeWebSocket {
  constructor(url) { this.url = url; this.sent = []; this.readyState = 0; sockets.push(this); }
  send(text) { this.sent.push(JSON.parse(text)); }
  close(code) { this.readyState = 3; if (this.onclose) this.onclose({ code: code || 1000 }); }
  serverOpen() { this.readyState = 1; this.onopen(); }
  serverSend(frame) { this.onmessage({ data: JSON.stringify(frame) }); }
  serverClose(code, reason) { this.readyState = 3; this.onclose({ code, reason: reason || "" }); }
}
global.WebSocket = FakeWebSocket;

const TetherChannels = require(path.resolve(process.argv[2]));
const received = [];
const results = [];
const errors = [];
const closes = [];
const client = new TetherChannels("ws://test/channels", {
  minDelay: 100,
  onError: (error) => errors.push(error),
  onClose: (info) => closes.push(info),
});
// Subscribing before the socket is open queues silently: nothing sent, no error.
client.subscribe("chat:a", {
  onMessage: (data, pub) => received.push(pub.offset),
  onSubscribed: (result) => results.push(result),
  onError: (error) => errors.push(error),
});
assert.deepStrictEqual([sockets[0].sent, errors], [[], []]);

(async () => {
  const tick = () => new Promise((r) => setImmediate(r));
  let ws = sockets[0];
  ws.serverOpen();
  let sub = ws.sent[0];
  assert.deepStrictEqual(sub, { type: "subscribe", channel: "chat:a", id: 1 });
  ws.serverSend({ type: "reply", id: 1, result: { channel: "chat:a", offset: 4, epoch: "e1",
    recovered: false, was_recovering: false, replayed: 0, recoverable: true } });
  await tick();
  for (const offset of [5, 6, 6, 7]) {  // 6 twice: deduplicated by offset
    ws.serverSend({ type: "pub", channel: "chat:a", offset, epoch: "e1", data: { offset } });
  }
  assert.deepStrictEqual(received, [5, 6, 7]);

  ws.serverClose(4001);  // slow consumer: reconnect with jitter, then recover
  assert.strictEqual(timers.length, 1);
  assert.ok(timers[0].delay >= 50 && timers[0].delay <= 150, "jittered first delay");
  assert.deepStrictEqual(closes, [{ code: 4001, reason: "", retrying: true }]);
  // While reconnecting: a new subscription and an unsubscribe are queued or done locally.
  client.subscribe("chat:later", { onError: (error) => errors.push(error) });
  client.subscribe("chat:gone", { onError: (error) => errors.push(error) });
  assert.deepStrictEqual(await client.unsubscribe("chat:gone"), {});
  timers.shift().fn();
  ws = sockets[1];
  ws.serverOpen();
  assert.deepStrictEqual(ws.sent.map((f) => f.channel), ["chat:a", "chat:later"]);
  assert.deepStrictEqual(errors, []);
  ws.serverSend({ type: "reply", id: ws.sent[1].id, result: { channel: "chat:later", offset: 0,
    epoch: "e2", recovered: false, was_recovering: false, replayed: 0, recoverable: false } });
  sub = ws.sent[0];
  assert.deepStrictEqual(sub.since, { offset: 7, epoch: "e1" });
  ws.serverSend({ type: "reply", id: sub.id, result: { channel: "chat:a", offset: 7, epoch: "e1",
    recovered: true, was_recovering: true, replayed: 1, recoverable: true } });
  ws.serverSend({ type: "pub", channel: "chat:a", offset: 8, epoch: "e1", data: {} });
  await tick();
  assert.deepStrictEqual(received, [5, 6, 7, 8]);
  assert.strictEqual(results[1].recovered, true);

  // A hole in the live stream makes the client resubscribe from its last offset.
  ws.serverSend({ type: "pub", channel: "chat:a", offset: 10, epoch: "e1", data: {} });
  const again = ws.sent[ws.sent.length - 1];
  assert.deepStrictEqual([again.type, again.since], ["subscribe", { offset: 8, epoch: "e1" }]);

  // The server says the stream cannot be continued: resubscribe as told.
  ws.serverSend({ type: "unsubscribed", channel: "chat:a", reason: "insufficient_state",
    resubscribe: true });
  const resub = ws.sent[ws.sent.length - 1];
  assert.strictEqual(resub.type, "subscribe");
  // The broker is down: the resubscribe is refused as unavailable and tried again (backoff).
  ws.serverSend({ type: "error", id: resub.id,
    error: { code: "unavailable", message: "the broker is unavailable: try again" } });
  await tick();
  assert.strictEqual(timers.length, 1, "a refused resubscribe is retried");
  assert.ok(timers[0].delay >= 50 && timers[0].delay <= 150);
  timers.shift().fn();
  const retried = ws.sent[ws.sent.length - 1];
  assert.deepStrictEqual([retried.type, retried.channel, retried.since],
    ["subscribe", "chat:a", { offset: 8, epoch: "e1" }]);
  ws.serverSend({ type: "error", id: retried.id, error: { code: "unavailable", message: "" } });
  await tick();
  assert.ok(timers[0].delay >= 100 && timers[0].delay <= 300, "the backoff doubles");
  timers.shift().fn();
  const third = ws.sent[ws.sent.length - 1];
  ws.serverSend({ type: "reply", id: third.id, result: { channel: "chat:a", offset: 8,
    epoch: "e1", recovered: true, was_recovering: true, replayed: 0, recoverable: true } });
  await tick();
  assert.strictEqual(timers.length, 0, "nothing more once it succeeded");
  errors.length = 0;  // the channel's onError heard both refusals (checked above by the retries)

  // Publish resolves with the server's reply; errors reject.
  const published = client.publish("chat:a", { text: "hi" });
  const request = ws.sent[ws.sent.length - 1];
  ws.serverSend({ type: "reply", id: request.id, result: { offset: 11, epoch: "e1" } });
  assert.deepStrictEqual(await published, { offset: 11, epoch: "e1" });
  const refused = client.publish("chat:a", 1);
  ws.serverSend({ type: "error", id: ws.sent[ws.sent.length - 1].id,
    error: { code: "forbidden", message: "no" } });
  await assert.rejects(refused, (e) => e.code === "forbidden");

  ws.serverClose(4003, "frames must be JSON objects");  // protocol error: no reconnect
  assert.strictEqual(timers.length, 0);
  assert.deepStrictEqual(errors, [{ code: 4003, reason: "frames must be JSON objects",
    message: "frames must be JSON objects" }]);

  // Refused by the server's policy (authenticate): 1008 is final and reported with its reason.
  const states = [];
  const refusals = [];
  const policy = new TetherChannels("ws://test/channels?name=", {
    onState: (state, code, reason) => states.push([state, code, reason]),
    onError: (error) => refusals.push(error),
    onClose: (info) => refusals.push(info),
  });
  policy.subscribe("chat:a", {});
  const socket = sockets[sockets.length - 1];
  socket.serverOpen();
  socket.serverClose(1008, "pick a name first");
  assert.strictEqual(timers.length, 0, "no reconnect after 1008");
  assert.deepStrictEqual(refusals, [
    { code: 1008, reason: "pick a name first", retrying: false },
    { code: 1008, reason: "pick a name first", message: "pick a name first" },
  ]);
  assert.deepStrictEqual(states[states.length - 1], ["closed", 1008, "pick a name first"]);
  console.log("ok");
})().catch((error) => { console.error(error); process.exit(1); });
