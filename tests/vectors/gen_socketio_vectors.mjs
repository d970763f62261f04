// Generates the byte-exact vectors the C++ codecs are tested against, using the reference npm
// parsers (socket.io-parser 4.2.x, engine.io-parser 5.2.x) as the oracle:
//   mkdir -p /tmp/ref && cd /tmp/ref && npm init -y && npm install socket.io@4.8 socket.io-client@4.8
//   NODE_PATH=/tmp/ref/node_modules node tests/vectors/gen_socketio_vectors.mjs
// Writes socketio_packets.json and engineio_packets.json next to this script. The output is
// committed; re-run only when the vectors change. Bad-input vectors carry the error our decoder
// gives and whether the reference decoder also rejects the input (`node_rejects`).
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const modules = process.env.NODE_PATH ?? "/tmp/ref/node_modules";
const require = createRequire(join(modules, "x.js"));
const version = (pkg) => JSON.parse(readFileSync(join(modules, pkg, "package.json"))).version;
const sio = require("socket.io-parser");
const { deconstructPacket } = require(join(modules, "socket.io-parser/build/cjs/binary.js"));
const eio = require("engine.io-parser");
const here = dirname(fileURLToPath(import.meta.url));
const T = sio.PacketType;

const b64 = (buf) => Buffer.from(buf).toString("base64");
const inner = (arr) => JSON.stringify(arr).slice(1, -1);  // members joined by commas

// ---- Socket.IO: encoder vectors --------------------------------------------------------------
const packets = [
  ["connect default", () => ({ type: T.CONNECT, nsp: "/" })],
  ["connect auth", () => ({ type: T.CONNECT, nsp: "/admin", data: { token: "1" } })],
  ["connect reply", () => ({ type: T.CONNECT, nsp: "/", data: { sid: "yriFJ4xKXm3uVMoZAAAB" } })],
  ["connect reply pid", () => ({ type: T.CONNECT, nsp: "/chat", data: { sid: "abc", pid: "p-1" } })],
  ["disconnect", () => ({ type: T.DISCONNECT, nsp: "/" })],
  ["disconnect nsp", () => ({ type: T.DISCONNECT, nsp: "/admin" })],
  ["event", () => ({ type: T.EVENT, nsp: "/", data: ["foo", 1] })],
  ["event chat", () => ({ type: T.EVENT, nsp: "/", data: ["chat", { room: "a", text: "hello world" }] })],
  ["event no args", () => ({ type: T.EVENT, nsp: "/", data: ["ping"] })],
  ["event nsp id", () => ({ type: T.EVENT, nsp: "/admin", id: 13, data: ["foo"] })],
  ["event id 0", () => ({ type: T.EVENT, nsp: "/", id: 0, data: ["a", null, true, false] })],
  ["event max id", () => ({ type: T.EVENT, nsp: "/", id: 9007199254740991, data: ["a"] })],
  ["event escapes", () => ({ type: T.EVENT, nsp: "/", data: ["q\"\\\n\u0001\u2028é😀", "\u007f/"] })],
  ["event numbers", () => ({ type: T.EVENT, nsp: "/", data: ["n", 0, -1.5, 1e21, 1e-7, 0.1, 2 ** 53] })],
  ["event nested", () => ({ type: T.EVENT, nsp: "/x", data: ["deep", { a: [1, { b: [] }], c: {} }] })],
  ["event error name", () => ({ type: T.EVENT, nsp: "/", data: ["error", "boom"] })],
  ["ack", () => ({ type: T.ACK, nsp: "/", id: 1, data: [] })],
  ["ack args", () => ({ type: T.ACK, nsp: "/admin", id: 13, data: ["bar", { x: 1 }] })],
  ["connect error", () => ({ type: T.CONNECT_ERROR, nsp: "/random", data: { message: "Invalid namespace" } })],
  ["connect error data", () => ({ type: T.CONNECT_ERROR, nsp: "/priv", data: { message: "not authorized", data: { reason: "x" } } })],
  ["binary event", () => ({ type: T.EVENT, nsp: "/", data: ["baz", Buffer.from([1, 2, 3])] })],
  ["binary event nested", () => ({ type: T.EVENT, nsp: "/", data: ["binreply", Buffer.from([1, 2, 3]), { nested: Buffer.from([4]) }] })],
  ["binary event nsp id", () => ({ type: T.EVENT, nsp: "/bin", id: 7, data: ["up", { files: [Buffer.alloc(0), Buffer.from("hi")] }] })],
  ["binary ack", () => ({ type: T.ACK, nsp: "/", id: 15, data: ["bar", Buffer.from([0xff, 0])] })],
];

function describe(name, make) {
  const encoded = new sio.Encoder().encode(make());
  const p = make();
  const dec = deconstructPacket(p);  // placeholders in data, buffers pulled out
  const d = dec.packet.data;
  const v = { name, type: p.type, nsp: p.nsp, id: p.id ?? null, attachments: dec.buffers.map(b64),
              encoded: encoded[0], encoded_attachments: encoded.slice(1).map(b64) };
  const binary = dec.buffers.length > 0;
  if (p.type === T.EVENT) {
    v.kind = "event"; v.event = d[0]; v.args_json = inner(d.slice(1));
  } else if (p.type === T.ACK) {
    v.kind = "ack"; v.args_json = inner(d);
  } else if (p.type === T.CONNECT) {
    const keys = d ? Object.keys(d) : [];
    if (keys.includes("sid")) { v.kind = "connect_reply"; v.sid = d.sid; v.pid = d.pid ?? ""; }
    else { v.kind = "connect"; v.payload_json = d ? JSON.stringify(d) : ""; }
  } else if (p.type === T.CONNECT_ERROR) {
    v.kind = "connect_error"; v.message = d.message;
    v.data_json = d.data === undefined ? "" : JSON.stringify(d.data);
  } else {
    v.kind = "disconnect";
  }
  v.wire_type = binary ? (p.type === T.EVENT ? T.BINARY_EVENT : T.BINARY_ACK) : p.type;
  // Engine.IO wire forms of the whole packet, as a broadcast sends them.
  v.polling = ["4" + encoded[0], ...encoded.slice(1).map((b) => "b" + b64(b))].join("\x1e");
  return v;
}

// Runs the reference decoder on a message sequence: strings are text, {bin} are binary.
function nodeRejects(messages) {
  const dec = new sio.Decoder();
  let decoded = null;
  dec.on("decoded", (p) => { decoded = p; });
  try {
    for (const m of messages) dec.add(typeof m === "string" ? m : Buffer.from(m.bin, "base64"));
  } catch (e) {
    return true;
  }
  return decoded === null ? "incomplete" : !sio.isPacketValid(decoded);
}

const deep = (n) => '2["d",' + "[".repeat(n - 1) + "]".repeat(n - 1) + "]";
const good = [  // accepted inputs that are not encoder output
  { input: "0/custom", nsp: "/custom" }, { input: "0/custom,", nsp: "/custom" },
  { input: "2/,[\"a\"]", nsp: "/" }, { input: "2[42,1]", event: "42", numeric: true },
  { input: '2 [ "a" , 1 ] ', event: "a", args: "1" }, { input: "2[\"\\u0061b\"]", event: "ab" },
  { input: deep(64), event: "d" }, { input: "4\"plain\"" }, { input: "0" },
  { input: "2[\"big\",123456789012345680000,-99999999999999999999999,1e400]", event: "big" },
  { input: '51-["a",{"_placeholder":true,"num":0,"x":1}]', event: "a", attachments: 1 },
  { input: '52-["a",{"_placeholder":true,"num":1},[{"_placeholder":true,"num":0}]]', event: "a", attachments: 2 },
];

const bad = [
  ["", "empty packet"], ["7", "unknown packet type"], ["a", "unknown packet type"],
  ["/2[\"a\"]", "unknown packet type"],
  ['5-["a",{"_placeholder":true,"num":0}]', "illegal attachments"],
  ['50-["a"]', "illegal attachments"], ['51["a"]', "illegal attachments"], ["5a-[\"a\"]", "illegal attachments"],
  ["51", "illegal attachments"],
  ['511-["a"]', "too many attachments"], ['5123456789012345678901-["a"]', "too many attachments"],
  ['2admin,["a"]', "invalid JSON payload"], ['2admin["a"]', "invalid JSON payload"],
  ['2/admin["a"]', "invalid payload"],
  ['29007199254740992["a"]', "ack id too large"], ["399999999999999999999[]", "ack id too large"],
  ["3[]", "ack without id"], ["3/a,[1]", "ack without id"], ["01{}", "unexpected ack id"],
  ["1/a,2", "unexpected ack id"], ["41", "unexpected ack id"],
  ["2", "invalid payload"], ["3/a,1", "invalid payload"], ["2/a,", "invalid payload"],
  ["2[]", "invalid payload"], ["2{}", "invalid payload"], ['2"a"', "invalid payload"],
  ["2[null]", "invalid payload"], ["2[{}]", "invalid payload"], ['2[["a"]]', "invalid payload"],
  ["2[true]", "invalid payload"], ["3{}", "ack without id"], ["31{}", "invalid payload"],
  ['0"abc"', "invalid payload"], ["0[]", "invalid payload"], ["0null", "invalid payload"],
  ["1{}", "invalid payload"], ["1/a,{}", "invalid payload"], ["4[]", "invalid payload"], ["41[]", "unexpected ack id"],
  ...["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"]
    .map((n) => [`2["${n}",1]`, "reserved event name"]),
  [deep(65), "JSON nesting too deep"], ['0{"a":' + "[".repeat(64) + "]".repeat(64) + "}", "JSON nesting too deep"],
  ['2["a"]x', "invalid JSON payload"], ['2["a"][]', "invalid JSON payload"], ["0{}{}", "invalid JSON payload"],
  ['2["a",]', "invalid JSON payload"], ['2["a"', "invalid JSON payload"], ["2abc", "invalid JSON payload"],
  ["4abc", "invalid JSON payload"], ['2["\\x"]', "invalid JSON payload"], ["2[\"a\u0001\"]", "invalid JSON payload"],
  ['51-["a",{"_placeholder":true,"num":1}]', "bad placeholder"],
  ['51-["a",{"_placeholder":true,"num":-1}]', "bad placeholder"],
  ['51-["a",{"_placeholder":true,"num":"0"}]', "bad placeholder"],
  ['51-["a",{"_placeholder":true,"num":0.5}]', "bad placeholder"],
  ['51-["a",{"_placeholder":true}]', "bad placeholder"],
  ['52-["a",{"_placeholder":true,"num":0}]', "attachment not referenced"],
  ['51-["a",{"_placeholder":false,"num":0}]', "attachment not referenced"],
  ['61-1[{"_placeholder":1,"num":0}]', "attachment not referenced"],
  ['51-[{"_placeholder":true,"num":0}]', "invalid payload"],
].map(([input, error]) => {
  // Binary headers get their announced attachments, so the reference reconstructs the packet.
  const n = Number((/^[56](\d{1,2})-/.exec(input) ?? [0, 0])[1]);
  return { input, error, node_rejects: nodeRejects([input, ...Array(n).fill({ bin: "AA==" })]) };
});

const sequences = [  // decoder state machine
  { messages: [{ bin: "AQID" }], error: "unexpected binary message" },
  { messages: ['51-["a",{"_placeholder":true,"num":0}]', '2["b"]'], error: "text message while awaiting attachments" },
  { messages: ['52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', { bin: "AQ==" }, { bin: "" }], error: "" },
].map((s) => ({ ...s, node_rejects: nodeRejects(s.messages) }));

const strings = ["", "plain", "q\"b\\s/", "\b\f\n\r\t\u0000\u0001\u001f", "\u007f\u0080", "\u2028\u2029",
  "é😀中", "</script>"].map((s) => ({ value_b64: b64(Buffer.from(s)), json: JSON.stringify(s) }));
const numbers = [0, -0, 1, -1, 1.5, 0.1, 1 / 3, 1e21, 1e-7, 1e-6, 123456789012345680000, 2 ** 53, -1.5e-10,
  5e-324, 1.7976931348623157e308, 123.456, 1e100, 100, 1e20].map((n) => {
  const bits = Buffer.alloc(8);
  bits.writeDoubleBE(n);  // exact value, independent of any JSON number parser
  return { bits: bits.toString("hex"), json: JSON.stringify(n) };
});

writeFileSync(join(here, "socketio_packets.json"), JSON.stringify({
  generator: "gen_socketio_vectors.mjs", parser: version("socket.io-parser"),
  packets: packets.map(([n, m]) => describe(n, m)), good, bad, sequences, strings, numbers,
}, null, 1) + "\n");

// ---- Engine.IO -------------------------------------------------------------------------------
const enc = (p, bin) => new Promise((r) => eio.encodePacket(p, bin, r));
const encPayload = (ps) => new Promise((r) => eio.encodePayload(ps, r));
const eioPackets = [];
for (const [type, data] of [["open", '{"sid":"x"}'], ["close"], ["ping"], ["ping", "probe"], ["pong", "probe"],
  ["message", "hello"], ["message", ""], ["message", "é\u001e?"], ["upgrade"], ["noop"]]) {
  eioPackets.push({ type, data: data ?? "", encoded: await enc({ type, data }, false) });
}
eioPackets.push({ type: "message", binary_b64: "AQID", encoded: await enc({ type: "message", data: Buffer.from([1, 2, 3]) }, false) });
const payloads = [];
for (const ps of [
  [{ type: "message", data: "hello" }],
  [{ type: "message", data: "hello" }, { type: "ping" }, { type: "message", data: "world" }],
  [{ type: "message", data: '2["a"]' }, { type: "message", data: Buffer.from([1, 2, 3]) }, { type: "message", data: Buffer.from([4]) }],
  [{ type: "noop" }, { type: "close" }],
  [{ type: "message", data: Buffer.alloc(0) }],
]) {
  payloads.push({ packets: ps.map((p) => Buffer.isBuffer(p.data) ? { type: p.type, binary_b64: b64(p.data) } : { type: p.type, data: p.data ?? "" }),
                  encoded: await encPayload(ps) });
}
const eioNodeRejects = (body) => eio.decodePayload(body).some((p) => p.type === "error");
const badPayloads = [["", "empty packet"], ["4a\x1e", "empty packet"], ["\x1e4a", "empty packet"],
  ["4a\x1e\x1e4b", "empty packet"], ["9", "unknown packet type"], ["4a\x1ex", "unknown packet type"],
  ["bAQ=x", "bad base64 in payload"], ["b!!!!", "bad base64 in payload"], ["bAQ", "bad base64 in payload"],
  ["bAR==", "bad base64 in payload"]].map(([body, error]) => ({ body, error, node_rejects: eioNodeRejects(body) }));
const open = (sid, upgrades) => "0" + JSON.stringify({ sid, upgrades, pingInterval: 25000, pingTimeout: 20000, maxPayload: 1000000 });
const { Server } = require("engine.io");
writeFileSync(join(here, "engineio_packets.json"), JSON.stringify({
  generator: "gen_socketio_vectors.mjs", parser: version("engine.io-parser"),
  packets: eioPackets, payloads, bad_payloads: badPayloads,
  open: [{ sid: "eIMNfL3eE5wmxy9gAAAA", upgrades: true, encoded: open("eIMNfL3eE5wmxy9gAAAA", ["websocket"]) },
         { sid: "eIMNfL3eE5wmxy9gAAAA", upgrades: false, encoded: open("eIMNfL3eE5wmxy9gAAAA", []) }],
  errors: Object.entries(Server.errorMessages).map(([code, message]) => ({ code: Number(code), body: JSON.stringify({ code: Number(code), message }) })),
}, null, 1) + "\n");
