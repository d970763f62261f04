#!/usr/bin/python3
"""A python-socketio (sync `socketio.Client`) driver for the Switchboard interop tests.

Run with Debian's interpreter (python3-socketio, python3-requests, python3-websocket):

    /usr/bin/python3 sio_client.py '{"url": "http://127.0.0.1:PORT", "transports": ["polling"]}'

argv[1] is a JSON config: url (required), transports (list; absent/null = default: polling then
upgrade), namespace ("/" by default), wait_timeout (s, default 5).

Once connected it prints one JSON line per result on stdout and reads one JSON command per line on
stdin. Bytes travel in JSON as {"$bytes": "<base64>"} both ways (nested anywhere), so a command can
send real binary attachments and a result can show the bytes that came back.

Commands (every command may carry an "id", copied into its result):
  {"op": "emit", "event": E, "args": [...], "ack": true}  emit; with ack → {"type": "ack", "args"}
  {"op": "join", "room": R}        emit join, then an echo ack as a barrier → {"type": "joined"}
  {"op": "leave", "room": R}       likewise → {"type": "left"}
  {"op": "chat", "room": R, "msg": M}   emit chat(room, msg) → {"type": "sent"}
  {"op": "disconnect"}             client disconnect → {"type": "disconnected", ...} and exit 0
Results printed unprompted:
  {"type": "connected", "sid", "transport"}     once, first line
  {"type": "event", "event": E, "args": [...]}  every server event (catch-all)
  {"type": "error", "message"}                  bad command / ack timeout / connect failure (exit 2)
  {"type": "disconnected", "reason"}            the connection ended (client or server side)
"""

import base64
import json
import sys
import threading

import socketio

_out_lock = threading.Lock()


def out(obj):
    line = json.dumps(obj, ensure_ascii=False, separators=(',', ':'))
    with _out_lock:
        sys.stdout.write(line + '\n')
        sys.stdout.flush()


def to_json(v):
    """Python value from the client → JSON-able, bytes as {"$bytes": b64}."""
    if isinstance(v, (bytes, bytearray, memoryview)):
        return {'$bytes': base64.b64encode(bytes(v)).decode('ascii')}
    if isinstance(v, dict):
        return {k: to_json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    return v


def from_json(v):
    """JSON command value → Python value, {"$bytes": b64} → bytes."""
    if isinstance(v, dict):
        if set(v.keys()) == {'$bytes'}:
            return base64.b64decode(v['$bytes'])
        return {k: from_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [from_json(x) for x in v]
    return v


def main():
    cfg = json.loads(sys.argv[1])
    nsp = cfg.get('namespace', '/')
    wait_timeout = float(cfg.get('wait_timeout', 5))
    sio = socketio.Client(reconnection=False, handle_sigint=False)
    done = threading.Event()

    @sio.on('*', namespace=nsp)
    def catch_all(event, *args):
        out({'type': 'event', 'event': event, 'args': to_json(list(args))})

    @sio.on('disconnect', namespace=nsp)
    def on_disconnect():
        out({'type': 'disconnected', 'reason': 'disconnect'})
        done.set()

    try:
        sio.connect(cfg['url'], transports=cfg.get('transports'), namespaces=[nsp],
                    wait_timeout=wait_timeout)
    except Exception as e:  # noqa: BLE001 - report anything as a result line
        out({'type': 'error', 'message': f'connect failed: {e!r}'})
        return 2
    out({'type': 'connected', 'sid': sio.get_sid(nsp), 'transport': sio.transport()})

    def barrier(cid, kind):
        # Events of one socket are handled in order: once an echo ack returns, the command
        # emitted before it (join/leave) has been processed by the server.
        def cb(*args):
            out({'type': kind, 'id': cid, 'transport': sio.transport()})
        sio.emit('echo', 'barrier', namespace=nsp, callback=cb)

    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            cmd = json.loads(line)
            op = cmd['op']
            cid = cmd.get('id')
            if op == 'emit':
                args = tuple(from_json(cmd.get('args', [])))
                if cmd.get('ack'):
                    def cb(*reply, _cid=cid):
                        out({'type': 'ack', 'id': _cid, 'args': to_json(list(reply))})
                    sio.emit(cmd['event'], args, namespace=nsp, callback=cb)
                else:
                    sio.emit(cmd['event'], args, namespace=nsp)
                    out({'type': 'sent', 'id': cid})
            elif op in ('join', 'leave'):
                sio.emit(op, cmd['room'], namespace=nsp)
                barrier(cid, 'joined' if op == 'join' else 'left')
            elif op == 'chat':
                sio.emit('chat', (cmd['room'], from_json(cmd['msg'])), namespace=nsp)
                out({'type': 'sent', 'id': cid})
            elif op == 'disconnect':
                sio.disconnect()
                done.wait(5)
                return 0
            else:
                out({'type': 'error', 'id': cid, 'message': f'unknown op {op!r}'})
        except Exception as e:  # noqa: BLE001
            out({'type': 'error', 'message': f'{type(e).__name__}: {e}'})
    # stdin closed without a disconnect command: leave cleanly anyway.
    if sio.connected:
        sio.disconnect()
    done.wait(5)
    return 0


if __name__ == '__main__':
    sys.exit(main())
