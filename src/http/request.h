#pragma once
// A parsed HTTP/1.1 request head. Every string_view points into the buffer the parser was given
// (the loop's receive buffer, parsed in place): valid only while that callback runs. Code that
// keeps anything past the callback copies it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace sb::http {

enum class Method : uint8_t {
  kGet,
  kHead,
  kPost,
  kPut,
  kDelete,
  kOptions,
  kPatch,
  kConnect,
  kTrace
};

std::string_view method_name(Method m);

struct Header {
  std::string_view name;   // as sent (compare case-insensitively)
  std::string_view value;  // leading/trailing whitespace stripped
};

/// Hard upper bound of headers a parser can store; the configured limit is at most this.
inline constexpr size_t kMaxHeadersCapacity = 128;

struct Request {
  Method method = Method::kGet;
  std::string_view target;    // request-target as sent ("/a/b?x=1")
  std::string_view path;      // target up to '?'
  std::string_view query;     // after '?', without it ("" if none)
  uint8_t version_minor = 1;  // HTTP/1.<minor>; only 0 and 1 are accepted
  bool keep_alive = true;     // from version + Connection header
  bool upgrade = false;       // Connection: upgrade token present
  std::optional<uint64_t> content_length;
  size_t head_size = 0;   // bytes of the head including the final CRLFCRLF
  std::string_view body;  // the Content-Length body, set by the server session before dispatch

  std::array<Header, kMaxHeadersCapacity> header_storage{};
  size_t header_count = 0;

  std::span<const Header> headers() const { return {header_storage.data(), header_count}; }
  /// First header with this name (ASCII case-insensitive), or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
  /// True if a comma-separated header (e.g. Connection) contains the token, case-insensitively.
  bool header_has_token(std::string_view name, std::string_view token) const;
};

/// ASCII case-insensitive equality (header names, tokens).
bool iequals(std::string_view a, std::string_view b);

/// `s` without leading and trailing spaces and tabs (HTTP's optional whitespace).
std::string_view trim_ows(std::string_view s);

}  // namespace sb::http
