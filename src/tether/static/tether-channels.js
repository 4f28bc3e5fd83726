/* tether-channels.js: a small, dependency-free client for tether channels.
 *
 *   const client = new TetherChannels("ws://host/channels");
 *   const sub = client.subscribe("chat:lobby", { onMessage: (data, pub) => ... });
 *   await client.publish("chat:lobby", { text: "hi" });
 *
 * It reconnects with jittered exponential backoff and resubscribes every channel with its
 * last (offset, epoch), so missed messages are replayed (onSubscribed gets recovered=true) or
 * the app learns it must resync (recovered=false). Publications are deduplicated by offset.
 * subscribe() may be called at any time: before the socket is open it is queued and sent on
 * open. A close with 1008 (refused by the server's policy, e.g. authentication) or 4003
 * (protocol error) is final: the client stops reconnecting and calls
 * options.onError({code, reason, message}). Every other close is retried, 1013 (rate limit
 * exceeded: try again later) included. options.onClose({code, reason, retrying}) sees every
 * close. A (re)subscribe refused because the broker is unavailable (or rate_limited) is
 * retried with the same backoff until it succeeds or the channel is unsubscribed; handlers.onError
 * still hears each refusal. options.onBroker(available) hears when the server loses or regains its broker
 * (client.brokerAvailable holds the last state). Protocol: docs/channels-protocol.md.
 */
(function (root) {
  "use strict";

  var NO_RETRY = { 1008: true, 4003: true };
  var RETRY_SUBSCRIBE = { unavailable: true, rate_limited: true };

  function TetherChannels(url, options) {
    options = options || {};
    this.url = url;
    this.minDelay = options.minDelay || 250;
    this.maxDelay = options.maxDelay || 10000;
    this.pingInterval = options.pingInterval || 20000;
    this.onState = options.onState || function () {};
    this.onClose = options.onClose || function () {};
    this.onError = options.onError || function () {};
    this.onBroker = options.onBroker || function () {};
    this.brokerAvailable = true;
    this.channels = {};
    this.pending = {};
    this.nextId = 1;
    this.attempt = 0;
    this.closed = false;
    this.ws = null;
    this.clientId = null;
    this._connect();
  }

  TetherChannels.prototype._connect = function () {
    var self = this;
    var ws = new WebSocket(this.url);
    this.ws = ws;
    this.onState("connecting");
    ws.onopen = function () {
      self.attempt = 0;
      self.onState("connected");
      Object.keys(self.channels).forEach(function (name) { self._subscribe(name); });
      self._pinger = setInterval(function () { self._send({ type: "ping" }); }, self.pingInterval);
    };
    ws.onmessage = function (event) { self._receive(JSON.parse(event.data)); };
    ws.onclose = function (event) {
      clearInterval(self._pinger);
      self.ws = null;
      Object.keys(self.pending).forEach(function (id) {
        self.pending[id].reject(new Error("connection closed"));
      });
      self.pending = {};
      var reason = event.reason || "";
      var fatal = !self.closed && NO_RETRY[event.code] === true;
      if (fatal) self.closed = true;  // retrying a refusal would only be refused again
      self.onClose({ code: event.code, reason: reason, retrying: !self.closed });
      if (self.closed) {
        self.onState("closed", event.code, reason);
        if (fatal) {
          self.onError({ code: event.code, reason: reason,
                         message: reason || "connection refused (" + event.code + ")" });
        }
        return;
      }
      var base = Math.min(self.maxDelay, self.minDelay * Math.pow(2, self.attempt++));
      var delay = base * (0.5 + Math.random());  // jitter spreads a reconnect storm
      self.onState("reconnecting", event.code, delay);
      setTimeout(function () { if (!self.closed) self._connect(); }, delay);
    };
  };

  TetherChannels.prototype._send = function (frame) {
    if (this.ws && this.ws.readyState === 1) { this.ws.send(JSON.stringify(frame)); return true; }
    return false;
  };

  TetherChannels.prototype._request = function (frame, onReply) {
    var self = this;
    return new Promise(function (resolve, reject) {
      frame.id = self.nextId++;
      self.pending[frame.id] = { resolve: resolve, reject: reject, onReply: onReply };
      if (!self._send(frame)) { delete self.pending[frame.id]; reject(new Error("not connected")); }
    });
  };

  TetherChannels.prototype._subscribe = function (name) {
    var state = this.channels[name];
    var frame = { type: "subscribe", channel: name };
    if (state.epoch) frame.since = { offset: state.offset, epoch: state.epoch };
    state.ready = false;
    // The position is taken synchronously: replayed publications follow the reply at once.
    function started(result) {
      state.offset = result.offset;
      state.epoch = result.epoch;
      state.recoverable = result.recoverable;
      state.ready = true;
    }
    var self = this;
    this._request(frame, started).then(function (result) {
      state.retries = 0;
      if (state.handlers.onSubscribed) state.handlers.onSubscribed(result);
    }, function (error) {
      if (state.handlers.onError) state.handlers.onError(error);
      // The broker is down (or the server asks to slow down): the channel is still wanted,
      // so try again with backoff; every other refusal is final for this subscription.
      if (error && RETRY_SUBSCRIBE[error.code]) self._retrySubscribe(name, state);
    });
  };

  TetherChannels.prototype._retrySubscribe = function (name, state) {
    var self = this;
    state.retries = (state.retries || 0) + 1;
    var delay = Math.min(this.maxDelay, this.minDelay * Math.pow(2, state.retries - 1));
    setTimeout(function () {
      // Unsubscribed meanwhile, or the socket closed (onopen resubscribes every channel).
      if (self.channels[name] !== state || !self.ws || self.ws.readyState !== 1) return;
      self._subscribe(name);
    }, delay * (0.5 + Math.random()));
  };

  TetherChannels.prototype._receive = function (frame) {
    var state = this.channels[frame.channel];
    if (frame.type === "reply" || frame.type === "error" || frame.type === "pong") {
      var waiter = this.pending[frame.id];
      if (!waiter) return;
      delete this.pending[frame.id];
      if (frame.type === "error") { waiter.reject(frame.error); return; }
      if (waiter.onReply) waiter.onReply(frame.result);
      waiter.resolve(frame.result);
    } else if (frame.type === "connected") {
      this.clientId = frame.client;
      this._broker(frame.broker !== "unavailable");
    } else if (frame.type === "broker") {
      this._broker(frame.available === true);
    } else if (frame.type === "pub" && state) {
      this._publication(state, frame);
    } else if (frame.type === "unsubscribed" && state && frame.resubscribe) {
      this._subscribe(frame.channel);  // recovers from the last offset, or says it cannot
    } else if ((frame.type === "join" || frame.type === "leave") && state) {
      var hook = frame.type === "join" ? state.handlers.onJoin : state.handlers.onLeave;
      if (hook) hook(frame.client, frame.info);
    }
  };

  TetherChannels.prototype._broker = function (available) {
    if (available === this.brokerAvailable) return;
    this.brokerAvailable = available;
    this.onBroker(available);
  };

  TetherChannels.prototype._publication = function (state, frame) {
    if (!state.ready) return;  // a (re)subscribe is in flight: its reply resets the position
    if (frame.epoch === state.epoch && frame.offset <= state.offset) return;  // duplicate
    if (frame.epoch === state.epoch && frame.offset > state.offset + 1 && state.recoverable) {
      this._subscribe(frame.channel);  // a hole (frames dropped): fetch it from history
      return;
    }
    state.offset = frame.offset;
    state.epoch = frame.epoch;
    if (state.handlers.onMessage) state.handlers.onMessage(frame.data, frame);
  };

  TetherChannels.prototype.subscribe = function (name, handlers) {
    var self = this;
    this.channels[name] = { handlers: handlers || {}, offset: 0, epoch: null, ready: false };
    // Not open yet (or reconnecting): queued, and sent by onopen with every other channel.
    if (this.ws && this.ws.readyState === 1) this._subscribe(name);
    return {
      unsubscribe: function () { return self.unsubscribe(name); },
      publish: function (data) { return self.publish(name, data); },
      position: function () {
        var s = self.channels[name];
        return s ? { offset: s.offset, epoch: s.epoch } : null;
      }
    };
  };

  TetherChannels.prototype.unsubscribe = function (name) {
    delete this.channels[name];
    // Without an open socket the server holds no subscription: forgetting it is enough.
    if (!this.ws || this.ws.readyState !== 1) return Promise.resolve({});
    return this._request({ type: "unsubscribe", channel: name });
  };

  TetherChannels.prototype.publish = function (name, data) {
    return this._request({ type: "publish", channel: name, data: data });
  };

  TetherChannels.prototype.presence = function (name) {
    return this._request({ type: "presence", channel: name });
  };

  TetherChannels.prototype.history = function (name, since, limit) {
    return this._request({ type: "history", channel: name, since: since, limit: limit });
  };

  TetherChannels.prototype.close = function () {
    this.closed = true;
    if (this.ws) this.ws.close(1000);
  };

  root.TetherChannels = TetherChannels;
  if (typeof module !== "undefined" && module.exports) module.exports = TetherChannels;
})(typeof self !== "undefined" ? self : this);
