#pragma once
// Blocking, bounded probes that `switchboard cluster` uses while its children start: is the
// node listening yet, does /readyz answer 200, does redis-server answer PING. Each waits at most
// a second on one short-lived socket; none is ever used on a data path.

#include <cstdint>
#include <string>
#include <string_view>

namespace sb::app {

/// Parses the `listening on HOST:PORT` line that `serve` and `lb` print once bound.
bool parse_listening(std::string_view out, std::string& host, uint16_t& port);

/// A loopback port that was free a moment ago (the kernel's pick for port 0). Only for
/// redis-server, which cannot report a port it chose itself: its start is retried if taken.
uint16_t pick_free_port();

/// GET `path` on a fresh connection; true on a 200 answer, whose body goes to `body` if given.
bool http_ok(const std::string& host, uint16_t port, const std::string& path, std::string* body);

/// True when a redis-server on loopback `port` answers PING with PONG.
bool redis_pong(uint16_t port);

}  // namespace sb::app
