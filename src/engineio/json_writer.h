#pragma once
// A small JSON writer that appends to a std::string. It produces exactly the bytes JavaScript's
// JSON.stringify produces for the same values (string escaping, number formatting), because the
// Engine.IO open packet, error bodies and Socket.IO packets are compared byte for byte with the
// Node reference. It lives in the Engine.IO layer, the lowest layer that needs it; Socket.IO
// uses it too. Nesting state is a fixed bit stack: the writer is driven by server code, never
// by a peer; levels deeper than kMaxDepth share the last bit (commas may then go wrong).

#include <cstdint>
#include <string>
#include <string_view>

namespace sb::engineio {

/// Appends `s` as a JSON string literal, escaped like JSON.stringify: `"` `\` and control
/// characters (\b \f \n \r \t, others as \u00xx) escaped; everything else, including DEL,
/// U+2028/U+2029 and non-ASCII bytes, copied as is. `s` must be UTF-8.
void append_json_string(std::string& out, std::string_view s);

/// Appends `v` formatted like JavaScript's Number.prototype.toString (shortest round trip,
/// exponent form below 1e-6 and from 1e21); NaN and infinities as `null`, -0 as `0`.
void append_json_number(std::string& out, double v);
void append_json_number(std::string& out, int64_t v);
void append_json_number(std::string& out, uint64_t v);

/// Streaming writer; commas between members are inserted automatically.
class JsonWriter {
 public:
  static constexpr int kMaxDepth = 64;

  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object() { return open('{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array() { return open('['); }
  JsonWriter& end_array() { return close(']'); }
  /// Object key; the next call writes its value.
  JsonWriter& key(std::string_view k);
  JsonWriter& string(std::string_view s);
  JsonWriter& number(double v);
  JsonWriter& number(int64_t v);
  JsonWriter& number(uint64_t v);
  JsonWriter& number(int v) { return number(static_cast<int64_t>(v)); }
  JsonWriter& boolean(bool b);
  JsonWriter& null();
  /// Inserts already-encoded JSON as one value (e.g. arguments forwarded without re-encoding).
  JsonWriter& raw(std::string_view json);

 private:
  JsonWriter& open(char c);
  JsonWriter& close(char c);
  void before_value();

  std::string& out_;
  uint64_t has_member_ = 0;  // bit d: level d already holds a member
  int depth_ = 0;
  bool after_key_ = false;
};

}  // namespace sb::engineio
