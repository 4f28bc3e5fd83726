/* The tether chat demo page. Plain JavaScript, no dependencies apart from tether-channels.js.
 *
 * Every piece of user text reaches the page through textContent, never as HTML.
 * Messages are sent with POST /api/rooms/<room>/messages (the server checks lengths and
 * publishes); everything else travels over the channels WebSocket:
 *   room:<room>    history, presence and join/leave events, recovered after a reconnect
 *   typing:<room>  ephemeral "is typing" pings (no history)
 */
(function () {
  "use strict";

  var TYPING_EVERY = 2000;   // ms between two typing pings while someone types
  var TYPING_SHOWN = 4000;   // ms a typing ping stays visible
  var OFFLINE_AFTER = 15000; // ms without a connection before the badge says "offline"
  var HISTORY_LIMIT = 100;

  function $(id) { return document.getElementById(id); }

  var me = { name: "", room: "" };
  var client = null;
  var roomChannel = "";
  var typingChannel = "";
  var connectedOnce = false;
  var downSince = 0;                          // when the socket went away (0: it is up)
  var brokerUp = true;                        // the server can reach its broker
  var lastTypingSent = 0;
  var limits = { name: 24, room: 32, text: 500 };
  var stream = { epoch: null, shown: {} };   // offsets shown in the current epoch
  var members = {};                           // client id -> name
  var typers = {};                            // client id -> {name, until}

  // -- small helpers ----------------------------------------------------------------------

  function show(element, text) {
    element.textContent = text || "";
    element.hidden = !text;
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) {
          var error = new Error(data.detail || ("HTTP " + response.status));
          error.refused = true;
          throw error;
        }
        return data;
      });
    });
  }

  function hue(text) {
    var h = 0;
    for (var i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) % 360;
    return h;
  }

  function avatar(name) {
    var span = document.createElement("span");
    span.className = "avatar";
    span.textContent = (name || "?").trim().charAt(0).toUpperCase() || "?";
    span.style.backgroundColor = "hsl(" + hue(name || "") + ", 55%, 45%)";
    span.setAttribute("aria-hidden", "true");
    return span;
  }

  function clock(ms) {
    var date = ms ? new Date(ms) : new Date();
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // -- connection state -------------------------------------------------------------------

  function setStatus(state, text) {
    $("status").setAttribute("data-state", state);
    $("status-text").textContent = text;
    document.body.setAttribute("data-connection", state);
  }

  function showConnected() {
    if (brokerUp) setStatus("connected", "connected");
    else setStatus("degraded", "connected, but the server lost its message broker: retrying");
  }

  function onBroker(available) {
    brokerUp = available;
    if (!downSince) showConnected();
    if (available) refreshPresence();
    else $("people").classList.add("stale");
  }

  function onState(state, code, detail) {
    if (state === "connected") {
      downSince = 0;
      connectedOnce = true;
      show($("send-error"), "");   // whatever failed while offline is not true any more
      showConnected();
      whoami();                    // after a restart another process may serve this page
    } else if (state === "connecting") {
      if (!connectedOnce) setStatus("connecting", "connecting…");
    } else if (state === "reconnecting") {
      if (!downSince) downSince = Date.now();
      var seconds = Math.max(1, Math.round((detail || 0) / 1000));
      if (Date.now() - downSince > OFFLINE_AFTER || !navigator.onLine) {
        setStatus("offline", "offline, retrying in " + seconds + " s");
      } else {
        setStatus("reconnecting", "reconnecting…");
      }
      $("people").classList.add("stale");
    } else if (state === "closed") {
      // 1008 comes with the server's reason (the client does not retry it).
      setStatus("offline", code === 1008 ? "offline: " + (detail || "the server refused this name")
                                         : "offline");
    }
  }

  // -- subscriptions ----------------------------------------------------------------------

  // Called once, right after the client is created: subscriptions made before the socket is
  // open are sent when it opens, and again (with the last position) after every reconnect.
  function subscribe() {
    client.subscribe(roomChannel, {
      onSubscribed: onRoomSubscribed,
      onMessage: addMessage,
      onJoin: function (id, info) { members[id] = memberName(info); renderPeople(); },
      onLeave: function (id) { delete members[id]; renderPeople(); },
      onError: function (error) { notice(errorText(error)); }
    });
    client.subscribe(typingChannel, {
      onMessage: onTyping,
      onError: function (error) { notice(errorText(error)); }
    });
  }

  function errorText(error) {
    return (error && (error.message || error.code)) || "something went wrong";
  }

  function onRoomSubscribed(result) {
    if (!result.was_recovering) {
      loadHistory();
    } else if (result.recovered) {
      if (result.replayed > 0) {
        notice("Back online: " + result.replayed + " missed message" +
               (result.replayed === 1 ? "" : "s") + " recovered.", 6000);
      } else {
        notice("Back online.", 3000);
      }
    } else {
      startEpoch(result.epoch);   // the divider goes up now, not with the next message
      notice("Back online, but some messages could not be recovered (the server lost its " +
             "history). Showing what it still has.", 10000);
      loadHistory();
    }
    refreshPresence();
  }

  function loadHistory() {
    client.history(roomChannel, null, HISTORY_LIMIT).then(function (result) {
      result.publications.forEach(function (publication) {
        addMessage(publication.data, { offset: publication.offset, epoch: result.epoch });
      });
      if (!result.publications.length && !$("messages").children.length) {
        emptyRoom();
      }
    }, function (error) { notice("Could not load the history: " + errorText(error)); });
  }

  function refreshPresence() {
    client.presence(roomChannel).then(function (result) {
      members = {};
      Object.keys(result.members).forEach(function (id) {
        members[id] = memberName(result.members[id]);
      });
      $("people").classList.remove("stale");
      renderPeople();
    }, function () { /* the next reconnect asks again */ });
  }

  function memberName(entry) {
    var info = entry && entry.info;
    return (info && typeof info.name === "string" && info.name) ||
           (entry && typeof entry.user === "string" && entry.user) || "someone";
  }

  // -- messages ---------------------------------------------------------------------------

  function emptyRoom() {
    var li = document.createElement("li");
    li.className = "empty";
    li.textContent = "No messages yet in #" + me.room + ". Say hello!";
    $("messages").appendChild(li);
  }

  function startEpoch(epoch) {
    if (epoch === stream.epoch) return;
    var list = $("messages");
    if (stream.epoch !== null && list.querySelector(".msg")) {
      var divider = document.createElement("li");
      divider.className = "divider";
      divider.textContent = "the server restarted: earlier messages may be incomplete";
      list.appendChild(divider);
    }
    stream = { epoch: epoch, shown: {} };
  }

  function addMessage(data, publication) {
    if (!data || typeof data !== "object") return;
    if (publication.epoch !== stream.epoch) startEpoch(publication.epoch);
    if (stream.shown[publication.offset]) return;
    stream.shown[publication.offset] = true;
    var list = $("messages");
    var empty = list.querySelector(".empty");
    if (empty) empty.remove();
    var nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.insertBefore(messageItem(data, publication), laterSibling(list, publication));
    if (nearBottom || data.name === me.name) list.scrollTop = list.scrollHeight;
    if (typeof data.name === "string") clearTyper(data.name);
  }

  function messageItem(data, publication) {
    var name = typeof data.name === "string" ? data.name : "someone";
    var li = document.createElement("li");
    li.className = "msg" + (name === me.name ? " mine" : "");
    li.setAttribute("data-offset", String(publication.offset));
    li.setAttribute("data-epoch", publication.epoch);
    var body = document.createElement("div");
    body.className = "body";
    var meta = document.createElement("div");
    meta.className = "meta";
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = name;
    var when = document.createElement("time");
    when.textContent = clock(data.ts);
    if (data.ts) when.dateTime = new Date(data.ts).toISOString();
    meta.appendChild(who);
    meta.appendChild(when);
    var text = document.createElement("p");
    text.className = "text";
    text.textContent = typeof data.text === "string" ? data.text : JSON.stringify(data);
    body.appendChild(meta);
    body.appendChild(text);
    li.appendChild(avatar(name));
    li.appendChild(body);
    return li;
  }

  // History can arrive after newer live messages: keep the list ordered by offset.
  function laterSibling(list, publication) {
    var items = list.querySelectorAll('.msg[data-epoch="' + publication.epoch + '"]');
    for (var i = 0; i < items.length; i++) {
      if (Number(items[i].getAttribute("data-offset")) > publication.offset) return items[i];
    }
    return null;
  }

  function notice(text, forMs) {
    var element = $("notice");
    show(element, text);
    clearTimeout(notice.timer);
    if (forMs) notice.timer = setTimeout(function () { show(element, ""); }, forMs);
  }

  // -- people and typing ------------------------------------------------------------------

  function renderPeople() {
    var counts = {};
    Object.keys(members).forEach(function (id) {
      counts[members[id]] = (counts[members[id]] || 0) + 1;
    });
    var names = Object.keys(counts).sort(function (a, b) {
      if (a === me.name) return -1;
      if (b === me.name) return 1;
      return a.localeCompare(b);
    });
    var list = $("people");
    list.textContent = "";
    names.forEach(function (name) {
      var li = document.createElement("li");
      li.appendChild(avatar(name));
      var label = document.createElement("span");
      label.className = "person";
      label.textContent = name;
      li.appendChild(label);
      if (name === me.name) {
        var you = document.createElement("span");
        you.className = "you";
        you.textContent = "you";
        li.appendChild(you);
      }
      if (counts[name] > 1) {
        var tabs = document.createElement("span");
        tabs.className = "tabs";
        tabs.textContent = "×" + counts[name];
        li.appendChild(tabs);
      }
      list.appendChild(li);
    });
    $("online-count").textContent = String(names.length);
  }

  function onTyping(data) {
    if (!data || typeof data.name !== "string" || data.client === client.clientId) return;
    if (data.typing === false) {
      delete typers[data.client];
    } else {
      typers[data.client] = { name: data.name.slice(0, limits.name), until: Date.now() + TYPING_SHOWN };
    }
    renderTyping();
  }

  function clearTyper(name) {
    Object.keys(typers).forEach(function (id) { if (typers[id].name === name) delete typers[id]; });
    renderTyping();
  }

  function renderTyping() {
    var now = Date.now();
    var names = [];
    Object.keys(typers).forEach(function (id) {
      if (typers[id].until < now) delete typers[id];
      else if (names.indexOf(typers[id].name) < 0) names.push(typers[id].name);
    });
    var text = "";
    if (names.length === 1) text = names[0] + " is typing…";
    else if (names.length === 2) text = names[0] + " and " + names[1] + " are typing…";
    else if (names.length > 2) text = names.length + " people are typing…";
    $("typing").textContent = text;
  }

  function sendTyping(typing) {
    if (!client || !client.clientId) return;
    client.publish(typingChannel, { name: me.name, client: client.clientId, typing: typing })
      .catch(function () { /* typing pings are best effort */ });
  }

  function onInput() {
    var length = $("text").value.trim().length;
    var counter = $("counter");
    counter.textContent = length > limits.text * 0.8 ? length + " / " + limits.text : "";
    counter.classList.toggle("over", length > limits.text);
    if (length && Date.now() - lastTypingSent > TYPING_EVERY) {
      lastTypingSent = Date.now();
      sendTyping(true);
    }
  }

  // -- sending ----------------------------------------------------------------------------

  function send(event) {
    event.preventDefault();
    var input = $("text");
    var text = input.value;
    if (!text.trim()) return;
    var button = $("send");
    button.disabled = true;
    postJSON("/api/rooms/" + encodeURIComponent(me.room) + "/messages", { name: me.name, text: text })
      .then(function () {
        if (input.value === text) input.value = "";
        show($("send-error"), "");
        lastTypingSent = 0;
        sendTyping(false);
        onInput();
      }, function (error) {
        show($("send-error"), error.refused ? error.message :
             "Not sent: the server cannot be reached. Your message is still in the box.");
      })
      .then(function () { button.disabled = false; input.focus(); });
  }

  // -- joining ----------------------------------------------------------------------------

  function join(event) {
    event.preventDefault();
    var button = $("join-button");
    button.disabled = true;
    postJSON("/api/join", { name: $("name").value, room: $("room").value })
      .then(function (accepted) {
        show($("join-error"), "");
        enter(accepted.name, accepted.room);
      }, function (error) {
        show($("join-error"), error.refused ? error.message : "The server cannot be reached.");
      })
      .then(function () { button.disabled = false; });
  }

  function enter(name, room) {
    me = { name: name, room: room };
    roomChannel = "room:" + room;
    typingChannel = "typing:" + room;
    try {
      localStorage.setItem("tether-chat-name", name);
      sessionStorage.setItem("tether-chat-joined", room);   // a reload of this tab rejoins
    } catch (e) { /* private mode */ }
    history.replaceState(null, "", "?room=" + encodeURIComponent(room));
    document.title = "#" + room + " · tether chat";
    $("join-view").hidden = true;
    $("chat-view").hidden = false;
    show($("room-title"), "#" + room);
    $("text").placeholder = "Message #" + room;
    $("text").focus();
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    client = new TetherChannels(scheme + location.host + "/channels?name=" + encodeURIComponent(name), {
      onState: onState,
      onBroker: onBroker,
      maxDelay: 5000
    });
    subscribe();
  }

  function leave() {
    try { sessionStorage.removeItem("tether-chat-joined"); } catch (e) { /* ok */ }
    if (client) client.close();
    location.href = "/?room=" + encodeURIComponent(me.room);
  }

  function init() {
    var params = new URLSearchParams(location.search);
    if (params.get("room")) $("room").value = params.get("room");
    try { $("name").value = localStorage.getItem("tether-chat-name") || ""; } catch (e) { /* ok */ }
    $("join-form").addEventListener("submit", join);
    $("composer").addEventListener("submit", send);
    $("text").addEventListener("input", onInput);
    $("leave").addEventListener("click", leave);
    window.addEventListener("offline", function () { if (client) setStatus("offline", "offline"); });
    setInterval(renderTyping, 1000);
    fetch("/api/limits").then(function (r) { return r.json(); }).then(function (l) { limits = l; },
      function () { /* keep the defaults */ });
    whoami();
    if (!rejoin(params)) (($("name").value ? $("room") : $("name"))).focus();
  }

  function whoami() {
    fetch("/api/whoami", { cache: "no-store" }).then(function (r) { return r.json(); })
      .then(function (who) {
        $("broker").textContent = who.broker;
        $("served-by").textContent = String(who.pid);
      }, function () { /* the footer keeps what it had */ });
  }

  // A reload of a tab that had joined goes straight back to the room (same name and room).
  function rejoin(params) {
    var joined = null;
    try { joined = sessionStorage.getItem("tether-chat-joined"); } catch (e) { /* ok */ }
    if (!joined || joined !== params.get("room") || !$("name").value) return false;
    $("join-form").requestSubmit();
    return true;
  }

  init();
})();
