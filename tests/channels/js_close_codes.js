// Drives the real tether-channels.js over Node's WebSocket against a live server
// (run by test_close_codes.py): argv = client path, ws base URL of the closing app, ws URL of
// the rate-limited app (close mode), ws URL of the rate-limited app (error mode).
"use strict";
const assert = require("assert");
const path = require("path");
const TetherChannels = require(path.resolve(process.argv[2]));
const [base, closing, erroring] = process.argv.slice(3);

const within = (ms, what, promise) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error("timed out: " + what)), ms)),
]);

async function protocolErrorIsDelivered() {
  // A frame that is not a JSON object: the server closes 4003 and the close frame arrives.
  const codes = [];
  for (let i = 0; i < 10; i++) {
    codes.push(await within(5000, "4003", new Promise((resolve) => {
      const ws = new WebSocket(base);
      ws.onopen = () => ws.send("not json");
      ws.onclose = (event) => resolve(event.code);
    })));
  }
  assert.deepStrictEqual(codes, Array(10).fill(4003));
}

async function rateLimitCloseIsRetried() {
  const closes = [];
  let connects = 0;
  let client;
  await within(10000, "reconnect after 1013", new Promise((resolve) => {
    client = new TetherChannels(closing, {
      minDelay: 50,
      onClose: (info) => closes.push(info),
      onState: (state) => {
        if (state !== "connected") return;
        connects += 1;
        if (connects === 1) for (let i = 0; i < 20; i++) client._send({ type: "ping" });
        else resolve();
      },
    });
  }));
  client.close();
  assert.strictEqual(closes[0].code, 1013);
  assert.strictEqual(closes[0].retrying, true);
}

async function rateLimitErrorSettlesTheRequest() {
  let client;
  await within(5000, "connect", new Promise((resolve) => {
    client = new TetherChannels(erroring, { onState: (s) => s === "connected" && resolve() });
  }));
  const outcomes = await within(5000, "every request settles", Promise.all(
    Array.from({ length: 20 }, () => client.presence("chat:a").then(
      () => "ok", (error) => error.code))));
  client.close();
  assert.ok(outcomes.includes("ok"), outcomes.join());
  assert.ok(outcomes.includes("rate_limited"), outcomes.join());
}

(async () => {
  await protocolErrorIsDelivered();
  await rateLimitCloseIsRetried();
  await rateLimitErrorSettlesTheRequest();
  console.log("ok");
  process.exit(0);
})().catch((error) => { console.error(error); process.exit(1); });
