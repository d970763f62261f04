#pragma once
// The balancer's view of its backends, shared by every loop. The set of backends is fixed at
// start-up; what changes (health, drain, the node id the backend announced, its load) lives in
// relaxed atomics: a routing decision that reads a value one health check old is harmless.
//
// Routing (docs/lb.md): a request that starts a session (no sid) may only go to a backend that is
// healthy and not drained; a request of an existing session may go to any healthy backend, so a
// drain never moves a session and a recovered node gets back exactly what hashes or is pinned to
// it.

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "lb/hash_ring.h"

namespace sb::lb {

enum class Mode : uint8_t { kIpHash, kCookie, kSid, kRoundRobin };
std::optional<Mode> parse_mode(std::string_view s);
std::string_view mode_name(Mode m);

struct Backend {
  std::string name;   // "host:port" as configured: the identity on the ring and in /lb/drain
  std::string token;  // the affinity-cookie value naming this backend (a hash of `name`)
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  std::atomic<bool> healthy{true};  // optimistic until the first check says otherwise
  std::atomic<bool> drained{false};
  std::atomic<int32_t> node_id{-1};  // announced by the backend; -1 until learned
  std::atomic<int64_t> active{0};    // open proxied connections to it (all loops)
};

/// Parses "host:port" / "[v6]:port" (numeric addresses or names resolved now, at start-up).
Result<void> resolve_backend(std::string_view spec, Backend& out);

class BackendPool {
 public:
  explicit BackendPool(std::vector<std::unique_ptr<Backend>> backends);

  size_t size() const { return backends_.size(); }
  Backend& at(size_t i) { return *backends_[i]; }
  const Backend& at(size_t i) const { return *backends_[i]; }
  const HashRing& ring() const { return ring_; }

  bool eligible_new(size_t i) const;       // healthy and not drained
  bool eligible_existing(size_t i) const;  // healthy
  int find_by_name(std::string_view name) const;
  int find_by_token(std::string_view token) const;
  int find_by_node(uint16_t node_id) const;
  /// The eligible-for-new backend with the fewest active connections (ties rotate). -1 if none.
  int least_loaded();
  /// The next eligible-for-new backend in turn (the non-sticky control mode). -1 if none.
  int round_robin();

 private:
  std::vector<std::unique_ptr<Backend>> backends_;
  HashRing ring_;
  std::atomic<uint32_t> turn_{0};
};

/// What the router needs to know about a request; views into the request being handled.
struct RouteInput {
  std::string_view client_key;  // client address (or trusted X-Forwarded-For)
  std::string_view sid;         // "" for a handshake
  std::optional<std::string_view> cookie;
};

struct RouteDecision {
  int backend = -1;         // -1: no backend can take it (503)
  bool set_cookie = false;  // cookie mode: pin the client with a Set-Cookie on the response
};

RouteDecision route(BackendPool& pool, Mode mode, const RouteInput& in);

/// The node id encoded in one of our sids (src/engineio/sid.h layout: tag 0xB5, node id big
/// endian, loop, 80 random bits, CRC-8), or nullopt for a foreign or mangled sid.
std::optional<uint16_t> sid_node(std::string_view sid);
/// The value of `name` in a query string ("a=1&sid=xyz"), undecoded; "" when absent.
std::string_view query_param(std::string_view query, std::string_view name);

}  // namespace sb::lb
