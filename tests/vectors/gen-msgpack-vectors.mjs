// Generates msgpack-vectors.json: the byte-exact MessagePack that notepack.io (the codec of
// @socket.io/redis-adapter 8.x) writes for a set of JS values, and the JSON text Node would
// produce from the decoded value. The C++ codec (src/adapter/msgpack.*, json_msgpack.*) is
// tested against it by tests/unit/adapter/*_test.cpp.
//
//   node tests/vectors/gen-msgpack-vectors.mjs        (uses /work/main/node_modules, or NODE_PATH)
//
// The output is committed; re-run only when the cases change.
//
// Each case has:
//   name
//   value      the JS value as JSON, with markers for what JSON cannot hold:
//              {"$bin":"<hex>"} a Buffer, {"$date":<ms or "NaN">} a Date,
//              {"$num":"<String(n)>"} a number JSON would mangle (-0, NaN, ±Infinity, and integers
//              beyond 2^53, which a C++ JSON parser may refuse). Object keys are in the JS
//              value's own order (Object.keys), which is the order notepack writes them.
//   msgpack    hex of notepack.encode(value); for encodings over 4 KiB, `msgpack_size`,
//              `msgpack_head` (hex of the first 16 bytes) and `msgpack_fnv1a64` (FNV-1a 64 of all
//              bytes, hex) instead, to keep this file small
//   json, attachments   (when the value is JSON-representable) the socket.io-parser form of the
//              value — JSON.stringify with each Buffer replaced by {"_placeholder":true,"num":K}
//              and its bytes (hex) in attachments[K]. json_to_msgpack(json, attachments) must
//              give `msgpack`.
//   decoded    {json, attachments}: the same form computed from notepack.decode(msgpack), i.e.
//              what msgpack_to_json must write (note 2^64 decodes to 0: notepack's uint64 wraps).
//              Omitted when equal to json/attachments.
// "json_cases" start from JSON text (as a client could send it) instead of a JS value:
//   {name, json, attachments, msgpack} with msgpack = notepack.encode(reconstructPacket(
//   JSON.parse(json), attachments)), plus `decoded` as above.
// "decode_cases" start from MessagePack bytes (forms notepack reads but never writes, or
// hostile input): {name, msgpack, node: {ok, json?, attachments?}, expect_error, why}.
// `expect_error` marks inputs our decoder refuses on purpose (`why` says why).
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const modules = process.env.NODE_PATH ?? "/work/main/node_modules";
const require = createRequire(join(modules, "x.js"));
const version = (pkg) => JSON.parse(readFileSync(join(modules, pkg, "package.json"))).version;
const notepack = require("notepack.io");
const { deconstructPacket, reconstructPacket } = require(
  join(modules, "socket.io-parser/build/cjs/binary.js"));
const here = dirname(fileURLToPath(import.meta.url));

const hex = (buf) => Buffer.from(buf).toString("hex");
const seq = (n, f) => Array.from({ length: n }, (_, i) => f(i));
const bytes = (n) => Buffer.from(seq(n, (i) => (i * 7 + 3) & 0xff));

// The marker form of a JS value (see above).
function tag(v) {
  if (typeof v === "number") {
    if (Object.is(v, -0) || !Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) {
      return { $num: String(v) };
    }
    return v;
  }
  if (Buffer.isBuffer(v)) return { $bin: hex(v) };
  if (v instanceof Date) return { $date: Number.isNaN(v.getTime()) ? "NaN" : v.getTime() };
  if (Array.isArray(v)) return v.map(tag);
  if (v && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = tag(v[k]);
    return o;
  }
  return v;
}

// JSON-representable: no Date, no number JSON would change.
function jsonable(v) {
  if (typeof v === "number") return Number.isFinite(v) && !Object.is(v, -0);
  if (v instanceof Date) return false;
  if (Buffer.isBuffer(v)) return true;
  if (Array.isArray(v)) return v.every(jsonable);
  if (v && typeof v === "object") return Object.values(v).every(jsonable);
  return true;
}

// socket.io-parser's text form of a value: placeholders + attachments.
function sioForm(v) {
  const { packet, buffers } = deconstructPacket({ type: 2, data: v });
  const json = JSON.stringify(packet.data);
  return { json: json === undefined ? "null" : json, attachments: buffers.map(hex) };
}

const valueCases = [];
function fnv1a64(buf) {
  let h = 0xcbf29ce484222325n;
  for (const b of buf) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, "0");
}
function putEncoding(c, encoded) {
  if (encoded.length <= 4096) {
    c.msgpack = hex(encoded);
  } else {
    c.msgpack_size = encoded.length;
    c.msgpack_head = hex(encoded.subarray(0, 16));
    c.msgpack_fnv1a64 = fnv1a64(encoded);
  }
}
function value(name, make) {
  const v = make();
  const encoded = notepack.encode(v);
  const c = { name, value: tag(v) };
  putEncoding(c, encoded);
  if (jsonable(v)) Object.assign(c, sioForm(make()));
  const decoded = sioForm(notepack.decode(encoded));
  if (decoded.json !== c.json || JSON.stringify(decoded.attachments) !== JSON.stringify(c.attachments)) {
    c.decoded = decoded;
  }
  valueCases.push(c);
}

// ---- numbers: every notepack form, and its float / wrap-around choices ----------------------
for (const n of [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40, 2 ** 53 - 1,
  2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64, 1e21, 1.5e300, 1.7976931348623157e308,
  -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 32), -(2 ** 53),
  -(2 ** 63), -(2 ** 64) - 4096 * 2, -1e21, 1.5, -0.5, 0.1, 1e-7, 123.456, 5e-324, -0, NaN,
  Infinity, -Infinity]) {
  value(`number ${Object.is(n, -0) ? "-0" : String(n)}`, () => n);
}
value("true", () => true);
value("false", () => false);
value("null", () => null);

// ---- strings -----------------------------------------------------------------------------
for (const n of [0, 1, 31, 32, 255, 256, 65536]) {
  value(`string ${n}`, () => "x".repeat(n));
}
value("string 2-byte chars 31 units 62 bytes", () => "é".repeat(31));
value("string 3-byte chars", () => "日本語テキスト");
value("string 4-byte chars", () => "😀🚀");
value("string escapes", () => "q\"\\\n\r\t\b\f\u0001\u001f\u007f\u2028\u2029/é😀");
value("string 16 x é is 32 bytes", () => "é".repeat(16));

// ---- arrays and maps ----------------------------------------------------------------------
for (const n of [0, 1, 15, 16, 65536]) {
  value(`array ${n}`, () => seq(n, (i) => (n > 16 ? i & 7 : 120 + i)));
}
for (const n of [0, 1, 15, 16]) {
  value(`map ${n}`, () => Object.fromEntries(seq(n, (i) => [`k${i}`, i % 3 === 0 ? `v${i}` : i])));
}
value("nested", () => ({ a: [1, { b: [[], {}], c: null }], d: { e: { f: { g: [true, false] } } } }));
value("map with integer keys (JS order)", () => ({ b: 1, 2: "two", a: 3, 1: "one", "01": 4 }));

// ---- binary ---------------------------------------------------------------------------------
for (const n of [0, 1, 255, 256, 65536]) {
  value(`binary ${n}`, () => bytes(n));
}
value("binary in nested values", () => ["up", { files: [Buffer.alloc(0), Buffer.from("hi")] },
  Buffer.from([0xde, 0xad, 0xbe, 0xef])]);

// ---- dates ----------------------------------------------------------------------------------
value("date ms", () => new Date("2024-01-02T03:04:05.678Z"));
value("date whole seconds", () => new Date("2024-01-02T03:04:05Z"));
value("date epoch", () => new Date(0));
value("date -1 ms", () => new Date(-1));
value("date 1969", () => new Date("1969-07-20T20:17:40.123Z"));
value("date 2^32 s", () => new Date(2 ** 32 * 1000));
value("date 2^34 s", () => new Date(2 ** 34 * 1000));
value("date max", () => new Date(8.64e15));
value("date min", () => new Date(-8.64e15));
value("date year 10000", () => new Date("+010000-01-01T00:00:00.000Z"));
value("date invalid", () => new Date(NaN));
value("date in args", () => ["when", { at: new Date("2024-01-02T03:04:05.678Z") }]);

// ---- what @socket.io/redis-adapter 8.3 publishes (dist/index.js) ------------------------------
// broadcast(): encode([uid, packet, {rooms, except, flags}]); packet is socket.io's
// {type: 2 (EVENT, even with binary), data: [event, ...args]} to which the adapter adds nsp.
value("adapter broadcast", () => ["YcF0LY", { type: 2, data: ["chat", { room: "r", text: "hi" }], nsp: "/" },
  { rooms: ["r"], except: [], flags: {} }]);
value("adapter broadcast captured", () => ["YcF0LY", { type: 2, data: ["chat", "hello", { from: "A" }], nsp: "/" },
  { rooms: ["room1"], except: [], flags: {} }]);
value("adapter broadcast binary", () => ["YcF0LY", { type: 2, data: ["file", { name: "a.bin" }, Buffer.from([1, 2, 3])], nsp: "/" },
  { rooms: [], except: ["sid1"], flags: { volatile: true } }]);
value("adapter broadcast two rooms nsp", () => ["K1K-qX", { type: 2, data: ["ev"], nsp: "/admin" },
  { rooms: ["a", "b"], except: [], flags: { compress: true } }]);
// broadcastWithAck(): a msgpack request on the request channel; answers are type 9, msgpack.
value("adapter request broadcast with ack", () => ({ uid: "YcF0LY", requestId: "aYj6Vy", type: 7,
  packet: { type: 2, data: ["question", 42], nsp: "/" },
  opts: { rooms: ["room1"], except: [], flags: { timeout: 3000 } } }));
value("adapter response broadcast ack", () => ({ type: 9, requestId: "aYj6Vy", packet: { answer: 43, from: "bob" } }));
// fetchSockets() and serverSideEmit() requests (JSON on the wire for the classic adapter; the
// same objects encoded here for the msgpack-speaking variants).
value("adapter request fetchSockets", () => ({ uid: "YcF0LY", requestId: "yv34G1", type: 5,
  opts: { rooms: ["room1"], except: [] } }));
value("adapter request serverSideEmit", () => ({ uid: "YcF0LY", type: 6, data: ["ping-sse", "hello-from-A", 7] }));
value("adapter request serverSideEmit with ack", () => ({ uid: "YcF0LY", requestId: "5Arfjk", type: 6,
  data: ["ping-sse", "ack-please"] }));

// ---- JSON text as a client sends it ---------------------------------------------------------
const jsonCases = [];
function fromJson(name, json, attachments = []) {
  const bufs = attachments.map((h) => Buffer.from(h, "hex"));
  const parsed = JSON.parse(json);
  const v = bufs.length ? reconstructPacket({ type: 5, data: parsed }, bufs).data : parsed;
  const encoded = notepack.encode(v);
  jsonCases.push({ name, json, attachments, msgpack: hex(encoded), decoded: sioForm(notepack.decode(encoded)) });
}
fromJson("1.0 is an integer", "1.0");
fromJson("1e3", "1e3");
fromJson("1E+2", "1E+2");
fromJson("-0", "-0");
fromJson("-0.0", "-0.0");
fromJson("0.5e1", "0.5e1");
fromJson("2^53+1 rounds", "9007199254740993");
fromJson("uint64 max", "18446744073709551615");
fromJson("beyond 64 bits", "123456789012345678901234567890");
fromJson("1e400 overflows", "[1e400,-1e400]");
fromJson("1e-400 underflows", "[1e-400,-1e-400]");
fromJson("denormal", "4.9406564584124654e-324");
fromJson("long fraction", "0.1000000000000000055511151231257827021181583404541015625");
fromJson("whitespace", " \t\n[ 1 ,\r\n\"a\" , { \"k\" : [ ] } ] ");
fromJson("escapes", "\"\\u00e9\\ud83d\\ude00\\/\\\"\\\\\\b\\f\\n\\r\\t\\u0000\"");
fromJson("escaped key", "{\"\\u0061\":1,\"b\\n\":2}");
fromJson("integer keys", "{\"b\":1,\"2\":2,\"a\":3,\"1\":4,\"01\":5,\"4294967295\":6,\"4294967294\":7}");
fromJson("duplicate keys", "{\"a\":1,\"b\":2,\"a\":3}");
fromJson("duplicate keys nested", "[{\"x\":{\"y\":1,\"y\":[2]},\"x\":{\"z\":3}}]");
fromJson("__proto__ key", "{\"__proto__\":1,\"a\":2}");
fromJson("placeholders", "[\"x\",{\"_placeholder\":true,\"num\":0},{\"a\":{\"_placeholder\":true,\"num\":1}}]",
  ["0102", "ff"]);
fromJson("placeholder num 1.0", "[{\"_placeholder\":true,\"num\":1.0}]", ["aa", "bbcc"]);
fromJson("placeholder with extra keys", "[{\"num\":0,\"x\":[1],\"_placeholder\":true}]", ["0a0b"]);
fromJson("placeholder false", "[{\"_placeholder\":false,\"num\":0},{\"_placeholder\":true,\"num\":0}]", ["01"]);
fromJson("placeholder without attachments is plain", "[{\"_placeholder\":true,\"num\":0}]");
fromJson("event args chat", "[\"chat\",{\"room\":\"r\",\"text\":\"hi\"}]");
fromJson("deep 64", "[".repeat(64) + "]".repeat(64));

// ---- MessagePack input notepack reads (or refuses) ------------------------------------------
const decodeCases = [];
function fromMsgpack(name, h, expectError = false, why = undefined) {
  const c = { name, msgpack: h, expect_error: expectError };
  if (why) c.why = why;
  try {
    const v = notepack.decode(Buffer.from(h, "hex"));
    c.node = { ok: true, ...sioForm(v) };
  } catch (e) {
    c.node = { ok: false, error: String(e.message) };
  }
  decodeCases.push(c);
}
const s = (str) => hex(notepack.encode(str));
fromMsgpack("float32", "ca3fc00000");
fromMsgpack("float32 fraction", "ca3dcccccd");
fromMsgpack("uint64 max", "cfffffffffffffffff");
fromMsgpack("int64 min", "d38000000000000000");
fromMsgpack("int64 -1", "d3ffffffffffffffff");
fromMsgpack("int8 positive", "d005");
fromMsgpack("uint8 small", "cc05");
fromMsgpack("map integer keys", "83" + s("b") + "01" + s("1") + "02" + s("0") + "03");
fromMsgpack("map duplicate keys", "83" + s("a") + "01" + s("b") + "02" + s("a") + "03");
fromMsgpack("map __proto__ key", "82" + s("__proto__") + "01" + s("x") + "02");
fromMsgpack("map reordered binary", "83" + s("b") + "c40101" + s("1") + "c40102" + s("a") + "c40103");
fromMsgpack("map nested reorder", "92" + "82" + s("z") + "81" + s("9") + "c0" + s("1") + "c40107" + "c40108");
fromMsgpack("legacy undefined in array", "92d4000001");
fromMsgpack("legacy undefined in map", "82" + s("a") + "d40000" + s("b") + "01");
fromMsgpack("legacy undefined top level", "d40000", false);
fromMsgpack("legacy arraybuffer", "c70300010203");
fromMsgpack("legacy arraybuffer ext16", "c8000200aabb");
fromMsgpack("legacy date", "d700" + "0000018cc9c2a5de");
fromMsgpack("timestamp32", "d6ff00000000");
fromMsgpack("timestamp64 max ns", "d7ffffffffff00000000");
fromMsgpack("timestamp96 negative", "c70cff3b8b87c0ffffffffffffffff");
fromMsgpack("timestamp96 invalid date", "c70cff" + "00000000" + "00010000" + "00000000");
fromMsgpack("str8 short", "d903616263");
fromMsgpack("str16 short", "da0003616263");
fromMsgpack("bin32 short", "c600000002abcd");
fromMsgpack("array16 short", "dc00020102");
fromMsgpack("map32 short", "df00000001" + s("k") + "c3");
fromMsgpack("reserved c1", "c1", true, "never used byte");
fromMsgpack("truncated array", "9201", true, "truncated");
fromMsgpack("truncated str", "a3ab", true, "truncated");
fromMsgpack("truncated uint32", "ce0001", true, "truncated");
fromMsgpack("count beyond input", "dd7fffffff01", true, "truncated");
fromMsgpack("empty", "", true, "truncated");
fromMsgpack("unknown ext", "d40501", true, "ext types other than notepack's own are dropped");
fromMsgpack("fixext16", "d80500112233445566778899aabbccddeeff", true, "unknown ext type");
fromMsgpack("timestamp ext16", "d8ff00000000000000000000000000000000", true, "not a notepack form");
fromMsgpack("non-string key", "810102", true, "map keys must be strings");
fromMsgpack("invalid utf-8", "a2c328", true, "notepack would substitute U+FFFD");
fromMsgpack("overlong utf-8", "a2c0af", true, "invalid UTF-8");
fromMsgpack("utf-8 surrogate", "a3eda080", true, "invalid UTF-8");

const out = {
  generator: "gen-msgpack-vectors.mjs",
  notepack: version("notepack.io"),
  socket_io_parser: version("socket.io-parser"),
  values: valueCases,
  json_cases: jsonCases,
  decode_cases: decodeCases,
};
writeFileSync(join(here, "msgpack-vectors.json"), JSON.stringify(out, null, 1) + "\n");
console.log(`wrote ${valueCases.length} value, ${jsonCases.length} json and ${decodeCases.length} decode cases`);
