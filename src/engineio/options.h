#pragma once
// Engine.IO server options. Defaults are the Node reference's (engine.io 6.6): a client written
// for a Node server sees the same handshake values, limits and timings here.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engineio/packet.h"
#include "ws/deflate.h"

namespace sb::engineio {

enum class Transport : uint8_t { kPolling, kWebSocket };

/// "polling" / "websocket", as in the `transport` query parameter.
std::string_view transport_name(Transport t);
/// Parses a `transport` query value; nullopt for anything else (including "webtransport").
std::optional<Transport> parse_transport(std::string_view name);

/// The optional `Set-Cookie: io=<sid>` on the handshake response (off by default, as in Node
/// since v4). A load balancer can use it for cookie-based stickiness.
struct CookieOptions {
  bool enabled = false;
  std::string name = "io";
  std::string path = "/";
  std::string domain;  // omitted when empty
  bool http_only = true;
  bool secure = false;
  std::string same_site = "Lax";     // "Lax", "Strict", "None"; omitted when empty
  std::optional<int64_t> max_age_s;  // omitted when unset (a session cookie)
};

struct Options {
  /// URL prefix of every Engine.IO request; the Socket.IO layer uses "/socket.io/".
  std::string path = "/engine.io/";
  uint32_t ping_interval_ms = 25000;
  uint32_t ping_timeout_ms = 20000;
  /// Time a probing WebSocket has to complete the upgrade (`5`) before it is closed.
  uint32_t upgrade_timeout_ms = 10000;
  /// Largest POST body and largest WebSocket message; announced as `maxPayload`.
  size_t max_http_buffer_size = 1000000;
  bool polling = true;    // transports: "polling"
  bool websocket = true;  // transports: "websocket"
  bool allow_upgrades = true;
  CookieOptions cookie;
  /// Written into every sid (decode_sid) so a balancer, or another node, knows the owner.
  uint16_t node_id = 0;
  /// Peer IPs of the balancers in front of this node (exact match). A handshake from one of
  /// them records the client address the balancer appended to X-Forwarded-For (the last
  /// entry: earlier ones are whatever the client claimed); from anyone else, the peer IP.
  std::vector<std::string> trusted_proxies;

  // --- beyond Node's option set ---
  /// gzip/deflate polling responses of at least this many bytes when the client accepts it.
  bool http_compression = true;
  size_t compression_threshold = 1024;
  /// permessage-deflate on the WebSocket transport (off by default, as in Node).
  bool per_message_deflate = false;
  ws::DeflateOptions deflate;
  /// Packets one POST body may carry (a body of thousands of empty packets is cheap to send
  /// and costly to dispatch). Over it: 413 and the session closes ("transport error").
  size_t max_payload_packets = kDefaultMaxPayloadPackets;
  /// Bytes a polling session may buffer for a client that does not come back for them. Over
  /// it the session closes ("transport error"); Node buffers without bound.
  size_t max_buffered_bytes = size_t{16} << 20;
  /// A session closed while no GET is pending waits this long for one to deliver the close
  /// packet (Node's closeTimeout).
  uint32_t close_timeout_ms = 30000;

  bool transport_enabled(Transport t) const {
    return t == Transport::kPolling ? polling : websocket;
  }
};

}  // namespace sb::engineio
