#pragma once
// What the two transcoders of json_msgpack.h share (internal to src/adapter): their limits and
// errors, JavaScript's own-key order of an object (both must reproduce it), and the per-thread
// scratch buffers that let a message be converted without allocating.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sb::adapter::transcode {

// Both converters recurse once per nesting level; the cap keeps a careless max_depth from
// turning into a stack overflow.
inline constexpr int kDepthCap = 512;
// 2^53: integers up to this magnitude are exact in a double (JavaScript's Number).
inline constexpr uint64_t kMaxSafe = uint64_t{1} << 53;

inline constexpr Error kErrJson{Errc::kProtocol, "json: malformed"};
inline constexpr Error kErrUtf8{Errc::kProtocol, "invalid UTF-8 in a string"};
inline constexpr Error kErrSurrogate{Errc::kProtocol, "json: lone surrogate escape"};
inline constexpr Error kErrDepth{Errc::kTooLarge, "nesting too deep"};
inline constexpr Error kErrPlaceholder{Errc::kProtocol, "json: illegal attachment placeholder"};
inline constexpr Error kErrKey{Errc::kUnsupported, "msgpack: map key is not a string"};
inline constexpr Error kErrExt{Errc::kUnsupported, "msgpack: unsupported ext type"};
// Internal: the fast msgpack→JSON pass met a map whose key order JavaScript would change.
inline constexpr Error kErrNeedOrder{Errc::kUnsupported, "msgpack: key order needs the slow path"};

/// An "array index" in ECMAScript terms: canonical decimal of an integer below 2^32 - 1. Objects
/// list these keys first, in numeric order, whatever the order they were created in.
bool is_array_index(std::string_view k, uint32_t& idx);

/// True when a key appears twice (`tmp`: scratch for long key lists).
bool has_duplicates(std::span<const std::string_view> keys, std::vector<std::string_view>& tmp);

/// The own keys of an object built by assigning `keys` in turn, in JavaScript's order: array
/// indices ascending, then the rest by first assignment. Fills `order` with, for each key, the
/// position of its last assignment (whose value survives). `drop_proto`: notepack.decode assigns
/// with `obj[key] = v`, and "__proto__" then hits the prototype setter instead of adding a key.
void js_key_order(std::span<const std::string_view> keys, bool drop_proto,
                  std::vector<uint32_t>& order);

// Per-thread scratch of both converters: a message is converted without allocating once the
// buffers have grown to its shape. Trimmed after a conversion that made them unusually large.
constexpr size_t kScratchKeep = 64 * 1024;

struct JsonMember {
  size_t begin;  // offset in the output of the key's str header
  uint32_t key_len;
};

struct Scratch {
  std::vector<JsonMember> members;  // members of the open objects, innermost last
  std::vector<std::string_view> keys;
  std::vector<std::string_view> tmp;
  std::vector<uint32_t> order;
  std::string str;  // an unescaped string
  std::string seg;  // reordered members

  void clear() {
    members.clear();
    keys.clear();
    tmp.clear();
    order.clear();
  }
  void trim() {
    if (members.capacity() * sizeof(JsonMember) > kScratchKeep) members = {};
    if (keys.capacity() * sizeof(std::string_view) > kScratchKeep) keys = {};
    if (tmp.capacity() * sizeof(std::string_view) > kScratchKeep) tmp = {};
    if (order.capacity() * sizeof(uint32_t) > kScratchKeep) order = {};
    if (str.capacity() > kScratchKeep) str = {};
    if (seg.capacity() > kScratchKeep) seg = {};
  }
};

/// This thread's scratch.
Scratch& scratch();

}  // namespace sb::adapter::transcode
