// A stand-in for a bundler's output: shows the client-side route and talks to the API.
const main = document.getElementById("app");
const me = await (await fetch("/api/me")).json();
main.textContent = `Hello ${me.name}, you are on ${location.pathname}`;
const socket = new WebSocket(`ws://${location.host}/ws`);
socket.onmessage = (event) => { main.textContent += ` (server says: ${event.data})`; };
