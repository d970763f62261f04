#pragma once
// Outgoing event arguments. A Json is a small value tree built by application code
// (`json::object({{"room", room}, {"text", text}})`, strings, numbers, arrays, binary buffers,
// and raw pre-encoded JSON such as an argument received from a client, forwarded untouched).
// It is encoded exactly once per emit — for a broadcast, once for all receivers — by
// encode_args(), which writes JSON.stringify's bytes and pulls binary buffers out as
// attachments with their `{"_placeholder":true,"num":K}` objects, as socket.io-parser does.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace sb::socketio {

using Bytes = std::vector<uint8_t>;

class Json {
 public:
  struct Raw {
    std::string text;
  };
  struct Binary {
    std::shared_ptr<const Bytes> bytes;  // shared: a Json may be copied into many emits
  };
  struct Object {
    std::vector<std::string> keys;
    std::vector<Json> values;
  };
  using Array = std::vector<Json>;

  Json() = default;        // null
  Json(std::nullptr_t) {}  // NOLINT(google-explicit-constructor)
  Json(bool b) : v_(b) {}  // NOLINT(google-explicit-constructor)
  template <typename T,
            typename = std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>>
  Json(T n)  // NOLINT(google-explicit-constructor)
      : v_(std::is_signed_v<T> ? Value(static_cast<int64_t>(n)) : Value(static_cast<uint64_t>(n))) {
  }
  Json(double d) : v_(d) {}                         // NOLINT(google-explicit-constructor)
  Json(const char* s) : v_(std::string(s)) {}       // NOLINT(google-explicit-constructor)
  Json(std::string s) : v_(std::move(s)) {}         // NOLINT(google-explicit-constructor)
  Json(std::string_view s) : v_(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  Json(Array a) : v_(std::move(a)) {}               // NOLINT(google-explicit-constructor)
  Json(Object o) : v_(std::move(o)) {}              // NOLINT(google-explicit-constructor)
  Json(Binary b) : v_(std::move(b)) {}              // NOLINT(google-explicit-constructor)

  /// Already-encoded JSON, inserted as is. The caller vouches for its validity (e.g. a value
  /// received from a client, which the decoder validated).
  static Json raw(std::string_view json) { return Json(Raw{std::string(json)}); }
  static Json binary(Bytes bytes) {
    return Json(Binary{std::make_shared<const Bytes>(std::move(bytes))});
  }
  static Json binary(std::span<const uint8_t> bytes) {
    return binary(Bytes(bytes.begin(), bytes.end()));
  }

  /// Object building: adds (or appends) a member. Returns *this for chaining.
  Json& set(std::string key, Json value);
  /// Array building.
  Json& push_back(Json value);

  bool is_null() const { return std::holds_alternative<std::monostate>(v_); }
  /// Appends this value's JSON to `out`; binary leaves become placeholders and their bytes
  /// are appended to `attachments`.
  void write(std::string& out, std::vector<Bytes>& attachments) const;

 private:
  using Value = std::variant<std::monostate, bool, int64_t, uint64_t, double, std::string, Raw,
                             Binary, Array, Object>;
  explicit Json(Raw r) : v_(std::move(r)) {}
  void write_at(std::string& out, std::vector<Bytes>& attachments, int depth) const;
  Value v_;
};

namespace json {
struct Member {
  std::string key;
  Json value;
};
/// `json::object({{"room", room}, {"text", text}})`
Json object(std::initializer_list<Member> members);
/// `json::array({1, "two", nullptr})`
Json array(std::initializer_list<Json> values);
}  // namespace json

/// Appends the members of an argument list, joined by commas (no brackets) — the `args_json`
/// form the encoder takes.
void encode_args(std::string& out, std::span<const Json> args, std::vector<Bytes>& attachments);

}  // namespace sb::socketio
