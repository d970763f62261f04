#pragma once
// Where a Redis server is and how to log in to it, parsed from the URL form that node-redis and
// @socket.io/redis-adapter deployments use, so one configuration string serves both worlds.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace sb::redis {

struct Url {
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string user;      // ACL user (Redis >= 6); empty: the default user
  std::string password;  // empty: no AUTH
  int db = 0;            // SELECTed after connecting when non-zero
};

/// Parses `redis://[[user]:password@]host[:port][/db]`, or `host[:port]` without a scheme.
/// IPv6 hosts are bracketed (`redis://[::1]:6380`); user and password may be percent-encoded.
/// TLS (`rediss://`), unix sockets and query parameters are rejected with a clear reason.
Result<Url> parse_url(std::string_view text);

}  // namespace sb::redis
