// Drives the npm `centrifuge` SDK (JSON or Protobuf build) under Node against tether.
// argv: url, mode ("json" | "protobuf"), short-lived token, fresh token.
// Prints one JSON line with what the SDK saw.
'use strict';
const WebSocket = require('ws');

const [url, mode, shortToken, freshToken] = process.argv.slice(2);
const sdk = mode === 'protobuf' ? require('centrifuge/build/protobuf') : require('centrifuge');
const { Centrifuge } = sdk;
const encode = (value) => (mode === 'protobuf' ? new TextEncoder().encode(JSON.stringify(value)) : value);
const decode = (data) => (mode === 'protobuf' ? JSON.parse(new TextDecoder().decode(data)) : data);

function until(condition, timeout = 8000) {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const check = () => {
      if (condition()) return resolve();
      if (Date.now() - started > timeout) return reject(new Error('condition not met in time'));
      setTimeout(check, 10);
    };
    check();
  });
}

async function main() {
  const out = { refreshes: 0, connects: 0, pubs: [], joins: [] };
  const client = new Centrifuge(url, { debug: !!process.env.DEBUG_CF,
    websocket: WebSocket,
    token: shortToken,
    getToken: async () => { out.refreshes += 1; return freshToken; },
  });
  client.on('connected', (ctx) => { out.connects += 1; out.transport = ctx.transport; });
  client.connect();
  await client.ready(5000);
  const sub = client.newSubscription('chat:node-' + mode, { joinLeave: true });
  sub.on('publication', (ctx) => out.pubs.push([ctx.offset, decode(ctx.data).n]));
  sub.on('join', (ctx) => out.joins.push(ctx.info.user));
  sub.on('subscribed', (ctx) => { out.subscribed = { recoverable: ctx.recoverable, positioned: ctx.positioned }; });
  sub.subscribe();
  await sub.ready(5000);
  for (let n = 1; n <= 5; n++) await sub.publish(encode({ n }));
  await until(() => out.pubs.length === 5);
  const presence = await sub.presence();
  out.presence = Object.values(presence.clients).map((info) => info.user);
  const stats = await sub.presenceStats();
  out.stats = [stats.numClients, stats.numUsers];
  const history = await sub.history({ limit: 2, reverse: true });
  out.history = history.publications.map((p) => decode(p.data).n);
  out.rpc = decode((await client.rpc('sum', encode({ a: 20, b: 22 }))).data);
  try {
    await client.rpc('fail', encode(null));
  } catch (err) {
    out.rpcError = err.code;
  }
  await client.send(encode({ from: mode }));
  await until(() => true);
  let received = [];
  for (let i = 0; i < 100 && !received.some((m) => m && m.from === mode); i++) {
    received = decode((await client.rpc('received', encode(null))).data);
    await new Promise((r) => setTimeout(r, 20));
  }
  out.sent = received.filter((m) => m && m.from === mode).length;
  // The short token expires in 4 s: the SDK refreshes it and stays connected.
  await until(() => out.refreshes >= 1);
  await new Promise((r) => setTimeout(r, 300));
  out.afterRefresh = decode((await client.rpc('sum', encode({ a: 1, b: 1 }))).data).sum;
  client.disconnect();
  console.log(JSON.stringify(out));
}

main().catch((err) => { console.error(err && err.stack || err); process.exit(1); });
