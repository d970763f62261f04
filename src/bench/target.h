#pragma once
// Where the load goes (a ws:// URL) and where it comes from (loopback source addresses).

#include <netinet/in.h>

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sb::bench {

struct Target {
  sockaddr_in addr{};
  std::string host_header;  ///< "host:port" as written in the URL
  std::string path;         ///< "/raw/chat" (with query, if any)
};

/// Parses ws://HOST[:PORT][/PATH] or http://... (IPv4 literal or a name resolving to IPv4).
/// wss:// and https:// are refused.
Result<Target> parse_target(std::string_view url);
/// Parses "127.0.0.1,127.0.0.2"; empty input gives {0.0.0.0} (the kernel chooses).
Result<std::vector<sockaddr_in>> parse_sources(std::string_view list);

}  // namespace sb::bench
