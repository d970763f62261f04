// The founding document's naive chat over the raw WebSocket endpoint /raw/chat: every message
// goes to every client connected to this node. (The Socket.IO chat with rooms replaces this page
// when the Socket.IO layer lands.)
const log = document.getElementById('log');
const status = document.getElementById('status');
const form = document.getElementById('form');
const nameInput = document.getElementById('name');
const textInput = document.getElementById('text');
nameInput.value = localStorage.getItem('sb-name') || `guest-${Math.floor(Math.random() * 1000)}`;

function line(cls, who, text) {
  const li = document.createElement('li');
  if (who) {
    const b = document.createElement('span');
    b.className = 'who';
    b.textContent = who;
    li.append(b);
  }
  li.append(document.createTextNode(text));
  if (cls) li.className = cls;
  log.append(li);
  log.scrollTop = log.scrollHeight;
}

let ws;
let delay = 500;
function connect() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws = new WebSocket(`${proto}//${location.host}/raw/chat`);
  ws.onopen = () => { status.textContent = 'connected'; delay = 500; };
  ws.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (typeof msg.name === 'string' && typeof msg.text === 'string') line('', msg.name, msg.text);
  };
  ws.onclose = () => {
    status.textContent = 'disconnected, retrying…';
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 5000);
  };
}
connect();

form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (!ws || ws.readyState !== WebSocket.OPEN) return line('sys', '', 'not connected');
  localStorage.setItem('sb-name', nameInput.value);
  ws.send(JSON.stringify({ name: nameInput.value, text: textInput.value }));
  textInput.value = '';
});
