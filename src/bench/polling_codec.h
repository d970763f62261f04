#pragma once
// Client side of Engine.IO v4 long-polling, sans-I/O, for the load generator: the HTTP/1.1
// requests a browser's polling transport makes, the server's responses, and the payloads they
// carry. Bytes in, views out — no sockets, no allocation while parsing (unit-tested by
// tests/unit/bench/polling_codec_test.cpp, every split of every input).
//
//   handshake  GET  /socket.io/?EIO=4&transport=polling[&room=r]      → 200 "0{"sid":…}"
//   poll       GET  …&sid=SID   (one pending at all times)           → 200 "p1\x1ep2…"
//   send       POST …&sid=SID   body "p1\x1ep2…" (one at a time)     → 200 "ok"
//
// Responses are framed by Content-Length only: both servers we measure (ours and Node.js
// engine.io) always send it for polling, and we never offer Accept-Encoding. Chunked or
// compressed responses are refused (an error, never a guess at the framing).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sb::bench {

enum class HttpParseStatus : uint8_t { kNeedMore, kComplete, kError };

/// One HTTP/1.1 response parsed from the start of a buffer.
struct HttpResponse {
  HttpParseStatus status = HttpParseStatus::kNeedMore;
  uint16_t code = 0;       ///< kComplete: the status code
  bool close = false;      ///< kComplete: the server closes the connection after it
  std::string_view body;   ///< kComplete: a view into the parsed data
  size_t size = 0;         ///< kComplete: head + body bytes, to consume
  std::string_view error;  ///< kError: static text
};

/// Largest response head we accept.
inline constexpr size_t kMaxResponseHeadBytes = 16 << 10;

/// Parses one response from the first byte of `data`. kNeedMore means "call again with the same
/// bytes plus more"; a head over kMaxResponseHeadBytes or a body over `max_body` is an error.
/// HTTP/1.1 keep-alive unless `Connection: close`; HTTP/1.0 closes unless `keep-alive`.
HttpResponse parse_http_response(std::string_view data, size_t max_body);

/// Walks the packets of a polling payload (`p1\x1ep2…`). next() gives the next packet (possibly
/// empty, which the caller treats as malformed) and returns false at the end.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view body) : rest_(body), done_(body.empty()) {}
  bool next(std::string_view& packet);

 private:
  std::string_view rest_;
  bool done_;
};

/// The values of an Engine.IO open packet's JSON (`0` already stripped) that a client needs.
struct OpenPacket {
  std::string_view sid;
  uint64_t ping_interval_ms = 25000;
  uint64_t ping_timeout_ms = 20000;
};
/// nullopt when there is no plausible "sid" (a JSON string of 1..64 URL-safe characters).
std::optional<OpenPacket> parse_open_packet(std::string_view json);

/// Appends `GET <path> HTTP/1.1` with Host and Accept.
void append_poll_request(std::string& out, std::string_view path, std::string_view host);
/// Appends `POST <path> HTTP/1.1` with a text/plain body.
void append_post_request(std::string& out, std::string_view path, std::string_view host,
                         std::string_view body);

}  // namespace sb::bench
