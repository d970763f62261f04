#include "lb/backend_pool.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <array>
#include <charconv>
#include <cstring>
#include <limits>

#include "fmt/format.h"

namespace sb::lb {

std::optional<Mode> parse_mode(std::string_view s) {
  if (s == "ip-hash") return Mode::kIpHash;
  if (s == "cookie") return Mode::kCookie;
  if (s == "sid") return Mode::kSid;
  if (s == "round-robin") return Mode::kRoundRobin;
  return std::nullopt;
}

std::string_view mode_name(Mode m) {
  switch (m) {
    case Mode::kIpHash:
      return "ip-hash";
    case Mode::kCookie:
      return "cookie";
    case Mode::kSid:
      return "sid";
    case Mode::kRoundRobin:
      return "round-robin";
  }
  return "?";
}

Result<void> resolve_backend(std::string_view spec, Backend& out) {
  const size_t colon = spec.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Error{Errc::kInvalidArgument, "backend must be HOST:PORT"};
  }
  std::string host(spec.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string port(spec.substr(colon + 1));
  unsigned p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p == 0 || p > 65535) {
    return Error{Errc::kInvalidArgument, "backend port must be 1..65535"};
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  // Start-up only: the data path never resolves names.
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    return Error{Errc::kInvalidArgument, "cannot resolve backend host"};
  }
  std::memcpy(&out.addr, res->ai_addr, res->ai_addrlen);
  out.addr_len = res->ai_addrlen;
  freeaddrinfo(res);
  out.name = std::string(spec);
  out.token = fmt::format("{:016x}", hash_key(out.name));
  return {};
}

namespace {
std::vector<std::string> names_of(const std::vector<std::unique_ptr<Backend>>& b) {
  std::vector<std::string> names;
  names.reserve(b.size());
  for (const auto& x : b)
    names.push_back(x->name);
  return names;
}
}  // namespace

BackendPool::BackendPool(std::vector<std::unique_ptr<Backend>> backends)
    : backends_(std::move(backends)), ring_(names_of(backends_)) {}

bool BackendPool::eligible_new(size_t i) const {
  const Backend& b = *backends_[i];
  return b.healthy.load(std::memory_order_relaxed) && !b.drained.load(std::memory_order_relaxed);
}

bool BackendPool::eligible_existing(size_t i) const {
  return backends_[i]->healthy.load(std::memory_order_relaxed);
}

int BackendPool::find_by_name(std::string_view name) const {
  for (size_t i = 0; i < backends_.size(); ++i) {
    if (backends_[i]->name == name) return static_cast<int>(i);
  }
  return -1;
}

int BackendPool::find_by_token(std::string_view token) const {
  for (size_t i = 0; i < backends_.size(); ++i) {
    if (backends_[i]->token == token) return static_cast<int>(i);
  }
  return -1;
}

int BackendPool::find_by_node(uint16_t node_id) const {
  for (size_t i = 0; i < backends_.size(); ++i) {
    if (backends_[i]->node_id.load(std::memory_order_relaxed) == node_id) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

int BackendPool::least_loaded() {
  const size_t n = backends_.size();
  if (n == 0) return -1;
  // Start at a rotating offset so equally loaded (e.g. idle) backends share the handshakes.
  const size_t start = turn_.fetch_add(1, std::memory_order_relaxed) % n;
  int best = -1;
  int64_t best_load = std::numeric_limits<int64_t>::max();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (start + k) % n;
    if (!eligible_new(i)) continue;
    const int64_t load = backends_[i]->active.load(std::memory_order_relaxed);
    if (load < best_load) {
      best = static_cast<int>(i);
      best_load = load;
    }
  }
  return best;
}

int BackendPool::round_robin() {
  const size_t n = backends_.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = turn_.fetch_add(1, std::memory_order_relaxed) % n;
    if (eligible_new(i)) return static_cast<int>(i);
  }
  return -1;
}

RouteDecision route(BackendPool& pool, Mode mode, const RouteInput& in) {
  auto owner_of_sid = [&]() -> int {
    if (in.sid.empty()) return -1;
    const auto node = sid_node(in.sid);
    if (!node) return -1;
    const int i = pool.find_by_node(*node);
    return i >= 0 && pool.eligible_existing(static_cast<size_t>(i)) ? i : -1;
  };
  auto is_new = [&](size_t i) { return pool.eligible_new(i); };
  auto is_existing = [&](size_t i) { return pool.eligible_existing(i); };
  switch (mode) {
    case Mode::kRoundRobin:
      return {pool.round_robin(), false};
    case Mode::kSid: {
      if (in.sid.empty()) return {pool.least_loaded(), false};
      const int owner = owner_of_sid();
      if (owner >= 0) return {owner, false};
      // A sid naming no live node we know: its session is gone. Any healthy node answers
      // "Session ID unknown" and the client starts over with a handshake.
      return {pool.ring().lookup(in.sid, is_existing), false};
    }
    case Mode::kCookie: {
      if (in.cookie) {
        const int i = pool.find_by_token(*in.cookie);
        if (i >= 0 && pool.eligible_existing(static_cast<size_t>(i))) return {i, false};
      }
      // No usable cookie (a client without a cookie jar): the sid still names the session's node.
      const int owner = owner_of_sid();
      if (owner >= 0) return {owner, false};
      return {pool.least_loaded(), true};
    }
    case Mode::kIpHash: {
      if (in.sid.empty()) return {pool.ring().lookup(in.client_key, is_new), false};
      int i = pool.ring().lookup(in.client_key, is_existing);
      // The hash owner is drained: sessions it already had stay, but this client's handshake was
      // sent past it; if the sid says the session lives elsewhere, follow the handshake's path.
      if (i >= 0 && pool.at(static_cast<size_t>(i)).drained.load(std::memory_order_relaxed)) {
        const auto node = sid_node(in.sid);
        if (node && pool.find_by_node(*node) != i) i = pool.ring().lookup(in.client_key, is_new);
      }
      return {i, false};
    }
  }
  return {};
}

namespace {
int b64url_index(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}
}  // namespace

std::optional<uint16_t> sid_node(std::string_view sid) {
  constexpr size_t kSidLength = 20;
  constexpr uint8_t kTag = 0xB5;
  if (sid.size() != kSidLength) return std::nullopt;
  std::array<uint8_t, 15> b{};
  for (size_t i = 0, o = 0; i < kSidLength; i += 4) {
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      const int x = b64url_index(sid[i + j]);
      if (x < 0) return std::nullopt;
      v = (v << 6) | static_cast<uint32_t>(x);
    }
    b[o++] = static_cast<uint8_t>(v >> 16);
    b[o++] = static_cast<uint8_t>(v >> 8);
    b[o++] = static_cast<uint8_t>(v);
  }
  // CRC-8 (x^8+x^2+x+1) over bytes 0..13, as written by engineio::generate_sid.
  uint8_t crc = 0;
  for (size_t i = 0; i < 14; ++i) {
    crc ^= b[i];
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<uint8_t>((crc & 0x80) ? (crc << 1) ^ 0x07 : crc << 1);
    }
  }
  if (b[0] != kTag || b[14] != crc) return std::nullopt;
  return static_cast<uint16_t>((b[1] << 8) | b[2]);
}

std::string_view query_param(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    const size_t eq = kv.find('=');
    if (kv.substr(0, eq) == name) return eq == std::string_view::npos ? "" : kv.substr(eq + 1);
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return {};
}

}  // namespace sb::lb
