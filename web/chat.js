// The Socket.IO chat demo (apps/switchboard/socketio_app.cpp): rooms on the default namespace.
//   client → server: join(room), leave(room), chat({room, text})
//   server → room:   chat({room, text, from})   (from = the sender's socket id)
// (The server also takes chat(room, msg) and forwards msg as is; such messages are shown too.)
// The server relays `text` as any JSON value, so the page sends {name, body} in it to show a
// display name; a plain string `text` (e.g. from a Node client) is shown with the sender's id.
// `io` comes from /vendor/socket.io.min.js, the socket.io-client bundle the build copies from
// node_modules (cmake/web.cmake). Default transports: HTTP long-polling, then WebSocket upgrade.
'use strict';

const $ = (id) => document.getElementById(id);
const statusEl = $('status');
const log = $('log');
const nameInput = $('name');
const roomInput = $('room');
const toSelect = $('to');
const textInput = $('text');
const joinedOut = $('joined');

const joined = new Set(['lobby']); // rejoined on every (re)connect: the server forgets rooms
nameInput.value = localStorage.getItem('sb-name') || `guest-${Math.floor(Math.random() * 1000)}`;

function setStatus(text, cls) {
  statusEl.textContent = text;
  statusEl.className = `status ${cls || ''}`;
}

function line(cls, room, who, text, title) {
  const li = document.createElement('li');
  if (cls) li.className = cls;
  if (room) {
    const r = document.createElement('span');
    r.className = 'room';
    r.textContent = `#${room}`;
    li.append(r, ' ');
  }
  if (who) {
    const w = document.createElement('span');
    w.className = 'who';
    w.textContent = who;
    if (title) w.title = title;
    li.append(w, ' ');
  }
  const t = document.createElement('span');
  t.className = 'text';
  t.textContent = text;
  li.append(t);
  const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  log.append(li);
  if (stick) log.scrollTop = log.scrollHeight;
}
const sys = (text) => line('sys', '', '', text);

function renderRooms() {
  joinedOut.textContent = [...joined].map((r) => `#${r}`).join(' ') || '(none)';
  const keep = toSelect.value;
  toSelect.replaceChildren(...[...joined].map((r) => new Option(`#${r}`, r)));
  if (joined.has(keep)) toSelect.value = keep;
}
renderRooms();

if (typeof io !== 'function') {
  setStatus('error: the socket.io client bundle (/vendor/socket.io.min.js) is missing', 'bad');
  sys('This page needs the socket.io-client browser bundle, copied from node_modules at build ' +
      'time: run `npm ci` in the source tree, re-run cmake and build, then serve the build\'s ' +
      'web/ directory (see docs/web.md).');
  for (const el of document.querySelectorAll('button, input, select')) el.disabled = true;
} else {
  const socket = io({ path: '/socket.io/' });

  socket.on('connect', () => {
    setStatus('connected', 'ok');
    for (const r of joined) socket.emit('join', r);
  });
  socket.on('disconnect', (reason) => {
    setStatus(socket.active ? 'reconnecting…' : 'disconnected', 'bad');
    if (reason !== 'io client disconnect') sys(`disconnected (${reason})`);
  });
  socket.on('connect_error', (err) => {
    setStatus(socket.active ? 'reconnecting…' : `error: ${err.message}`, 'bad');
  });
  socket.io.on('reconnect_attempt', (n) => setStatus(`reconnecting… (attempt ${n})`, 'bad'));

  // Two shapes arrive: {room, text, from} (chat({room, text}) senders, like this page) and the
  // bare msg of a chat(room, msg) sender, forwarded untouched (no room or sender id attached).
  socket.on('chat', (m) => {
    const o = m && typeof m === 'object' ? m : { text: m };
    const from = typeof o.from === 'string' ? o.from : '';
    let who = typeof o.name === 'string' && o.name ? o.name : from ? `${from.slice(0, 6)}…` : '?';
    let text = 'text' in o ? o.text : o;
    if (text && typeof text === 'object' && typeof text.body === 'string') {
      if (typeof text.name === 'string' && text.name) who = text.name;
      text = text.body;
    }
    if (typeof text !== 'string') text = JSON.stringify(text);
    const room = typeof o.room === 'string' ? o.room : '';
    line(from && from === socket.id ? 'mine' : '', room, who, text, from);
  });

  $('rooms').addEventListener('submit', (e) => {
    e.preventDefault();
    const r = roomInput.value.trim();
    if (!r) return;
    if (!joined.has(r)) {
      joined.add(r);
      if (socket.connected) socket.emit('join', r);
      sys(`joined #${r}`);
    }
    renderRooms();
    toSelect.value = r;
  });
  $('leave').addEventListener('click', () => {
    const r = roomInput.value.trim();
    if (!joined.delete(r)) return sys(`not in #${r}`);
    if (socket.connected) socket.emit('leave', r);
    sys(`left #${r}`);
    renderRooms();
  });
  $('form').addEventListener('submit', (e) => {
    e.preventDefault();
    const room = toSelect.value;
    const body = textInput.value;
    if (!room) return sys('join a room first');
    if (!socket.connected) return sys('not connected; the message was not sent');
    const name = nameInput.value.trim() || 'guest';
    localStorage.setItem('sb-name', name);
    socket.emit('chat', { room, text: { name, body } });
    textInput.value = '';
  });
}
