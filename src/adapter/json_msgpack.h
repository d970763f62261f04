#pragma once
// Transcoding between the two forms a Socket.IO payload takes in a mixed cluster: JSON text with
// binary attachments (what clients send us and socketio::encode_* writes) and MessagePack (what
// @socket.io/redis-adapter publishes through notepack.io). Both directions reproduce what the
// Node.js side computes, byte for byte:
//   json_to_msgpack  ≡ notepack.encode(reconstructPacket(JSON.parse(json), attachments))
//   msgpack_to_json  ≡ JSON.stringify(deconstructPacket(notepack.decode(bytes)))
// which includes JavaScript's object semantics: a duplicate key keeps its first position and its
// last value; keys that are array indices ("0".."4294967294") come first, in numeric order
// (JSON.parse('{"b":1,"2":0}') has keys 2, b); a "__proto__" map key is not an own property
// after notepack.decode (its assignment hits the prototype setter) and is dropped.
//
// Deliberate differences, each an error instead of a guess: strings with lone surrogates
// (notepack writes garbage bytes for them; our Socket.IO decoder refuses them anyway), invalid
// UTF-8 in a msgpack string (notepack substitutes U+FFFD), a non-string map key, an ext type
// other than notepack's own (Date, legacy undefined/ArrayBuffer/Date), and a placeholder whose
// index is not an integer (socket.io-parser would yield undefined).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "adapter/msgpack.h"
#include "common/result.h"

namespace sb::adapter {

using Attachments = std::span<const std::span<const uint8_t>>;

/// Appends to `out` the MessagePack encoding of one JSON value. Objects
/// `{"_placeholder":true,"num":K}` become `bin` holding attachments[K] — only when `attachments`
/// is non-empty (a packet without attachments is not reconstructed by socket.io-parser either).
/// Containers nested deeper than `max_depth` (the top-level container is depth 1) are refused
/// with kTooLarge; malformed JSON with kProtocol. On error `out` is left as it was.
Result<void> json_to_msgpack(std::string_view json, Attachments attachments, std::string& out,
                             int max_depth = 64);

/// Appends the MessagePack array `[event, ...args]` — a Socket.IO packet's `data` — from the
/// event name and the arguments as JSON members joined by commas, without brackets (the
/// `args` of socketio::Packet, or what socketio::encode_args writes). Depth counts the array.
Result<void> event_to_msgpack(std::string_view event, std::string_view args_json,
                              Attachments attachments, std::string& out, int max_depth = 64);

/// Reads one value from `r` and appends its JSON.stringify text to `json_out`. `bin` (and
/// notepack's legacy ArrayBuffer ext) becomes `{"_placeholder":true,"num":K}` with its bytes
/// appended to `attachments` (K = its index there); a Date becomes its toISOString() string (null
/// if invalid); nil and a top-level legacy `undefined` become null. On error both outputs are
/// left as they were; `r`'s position is then unspecified.
Result<void> msgpack_to_json(msgpack::Reader& r, std::string& json_out,
                             std::vector<std::vector<uint8_t>>& attachments, int max_depth = 64);

/// Reads `count` values (the rest of an array whose header the caller read, e.g. a `data`
/// array after the event name) and appends them as JSON members joined by commas — the `args`
/// form socketio::encode_event takes. They are array elements: depth starts at 1.
Result<void> msgpack_to_json_members(msgpack::Reader& r, size_t count, std::string& json_out,
                                     std::vector<std::vector<uint8_t>>& attachments,
                                     int max_depth = 64);

}  // namespace sb::adapter
