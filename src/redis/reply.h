#pragma once
// One RESP2 reply, owned. The reader builds these directly from hiredis's parser callbacks, so a
// reply outlives the receive buffer it came from and strings are binary-safe (NUL bytes included).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sb::redis {

/// An owned copy of one RESP reply (hiredis's reply tree converted; binary-safe strings).
struct Reply {
  enum class Type { kString, kArray, kInteger, kNil, kStatus, kError };
  Type type = Type::kNil;
  std::string str;              // kString, kStatus, kError
  int64_t integer = 0;          // kInteger
  std::vector<Reply> elements;  // kArray
  bool is_error() const { return type == Type::kError; }

  /// An error reply made locally ("ERR connection lost", "ERR queue full", ...).
  static Reply error(std::string_view message) {
    Reply r;
    r.type = Type::kError;
    r.str = message;
    return r;
  }
  /// True for a kString/kStatus reply equal to `s` (e.g. is("OK")).
  bool is(std::string_view s) const {
    return (type == Type::kString || type == Type::kStatus) && str == s;
  }
};

/// Debug form for logs and test failures: `"OK"`, `(error) ERR x`, `(integer) 3`, `(nil)`, `[a,
/// b]`.
std::string to_string(const Reply& r);

}  // namespace sb::redis
