#pragma once
// Query-string parsing for Engine.IO requests (`?EIO=4&transport=polling&sid=…&t=…`). Decoding
// follows Node's querystring module, which engine.io uses: `+` is a space, `%XX` is a byte, and
// a malformed escape is kept literally rather than refused.

#include <optional>
#include <string>
#include <string_view>

namespace sb::engineio {

/// Percent-decodes `in` (and `+` → space) into `out` (replaced). Malformed escapes are kept.
void percent_decode(std::string_view in, std::string& out);

/// The parameters the Engine.IO server reads. Absent parameters are nullopt.
struct EngineQuery {
  std::optional<std::string> eio;
  std::optional<std::string> transport;
  std::optional<std::string> sid;
  std::optional<std::string> t;
  /// One of the four keys appeared twice. Node then sees an array and refuses the request
  /// (unsupported version / unknown transport / unknown sid); callers answer kBadRequest.
  bool duplicate = false;
};

/// Parses the query part of a request target: everything after the first `?` if `target`
/// contains one, else all of `target`. A `#fragment` is ignored.
EngineQuery parse_engine_query(std::string_view target);

/// Calls `fn(key, value)` with each decoded `key=value` pair of the query part of `target`
/// (a pair without `=` has an empty value; empty pairs are skipped). For the application's
/// own query parameters (`socket.handshake.query`).
template <typename Fn>
void for_each_query_param(std::string_view target, Fn&& fn);

namespace detail {
std::string_view query_part(std::string_view target);
}  // namespace detail

template <typename Fn>
void for_each_query_param(std::string_view target, Fn&& fn) {
  std::string_view q = detail::query_part(target);
  std::string key;
  std::string value;
  while (!q.empty()) {
    const size_t amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view{} : q.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    percent_decode(pair.substr(0, eq), key);
    percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), value);
    fn(std::string_view(key), std::string_view(value));
  }
}

}  // namespace sb::engineio
