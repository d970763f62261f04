#include "bench/target.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

namespace sb::bench {

Result<Target> parse_target(std::string_view url) {
  // http:// is accepted too: Socket.IO servers are usually named by their http:// URL.
  constexpr std::string_view kWs = "ws://";
  constexpr std::string_view kHttp = "http://";
  if (url.substr(0, kWs.size()) == kWs) {
    url.remove_prefix(kWs.size());
  } else if (url.substr(0, kHttp.size()) == kHttp) {
    url.remove_prefix(kHttp.size());
  } else {
    return Error{Errc::kInvalidArgument,
                 "target must be a ws:// or http:// URL (wss/https are not supported)"};
  }
  const size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  Target t;
  t.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  t.host_header = std::string(authority);
  std::string host(authority);
  std::string port = "80";
  if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = std::string(authority.substr(0, colon));
    port = std::string(authority.substr(colon + 1));
  }
  if (host.empty()) return Error{Errc::kInvalidArgument, "target has no host"};
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    return Error{Errc::kInvalidArgument, "cannot resolve the target host (IPv4)"};
  }
  std::memcpy(&t.addr, res->ai_addr, sizeof(t.addr));
  freeaddrinfo(res);
  return t;
}

Result<std::vector<sockaddr_in>> parse_sources(std::string_view list) {
  std::vector<sockaddr_in> out;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string ip(list.substr(0, comma));
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    if (ip.empty()) continue;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    if (inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) {
      return Error{Errc::kInvalidArgument, "bad source address (IPv4 literal expected)"};
    }
    out.push_back(a);
  }
  if (out.empty()) {
    sockaddr_in any{};
    any.sin_family = AF_INET;
    out.push_back(any);
  }
  return out;
}

}  // namespace sb::bench
