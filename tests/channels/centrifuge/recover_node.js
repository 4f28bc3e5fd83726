// A npm `centrifuge` SDK client under Node that follows one channel through server restarts.
// argv: url, channel, token, last number. Prints {numbers, subscribed} once it has seen the
// last number (or its time is up).
'use strict';
const WebSocket = require('ws');
const { Centrifuge } = require('centrifuge');

const [url, channel, token, last] = process.argv.slice(2);
const out = { numbers: [], subscribed: [] };
const client = new Centrifuge(url, { websocket: WebSocket, token, minReconnectDelay: 100, maxReconnectDelay: 500 });
const sub = client.newSubscription(channel);
sub.on('publication', (ctx) => {
  out.numbers.push(ctx.data.n);
  if (ctx.data.n === Number(last)) finish();
});
sub.on('subscribed', (ctx) => out.subscribed.push({ recovered: ctx.recovered, wasRecovering: ctx.wasRecovering, at: out.numbers.length }));
function finish() {
  client.disconnect();
  console.log(JSON.stringify(out));
  process.exit(0);
}
setTimeout(finish, 45000);
client.connect();
sub.subscribe();
sub.ready(10000).then(() => console.error('ready'));
