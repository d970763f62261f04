// Blocking start-up probes for `switchboard cluster` (see startup_probe.h).

#include "startup_probe.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>

namespace sb::app {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxAnswer = 64 * 1024;  // a probe's answer is a status line and a short body
constexpr int kProbeTimeoutMs = 1000;     // one readiness probe (connect + answer)

// One request on a fresh connection to an IPv4 address; returns what came back until the peer
// closed or `complete` said enough, or "" on failure or after `timeout_ms`. Start-up probes only
// (blocking with a bounded poll): never on a data path.
std::string exchange(const std::string& host, uint16_t port, std::string_view request,
                     int timeout_ms, bool (*complete)(std::string_view)) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  const std::string target = host == "0.0.0.0" ? "127.0.0.1" : host;
  if (inet_pton(AF_INET, target.c_str(), &a.sin_addr) != 1) return {};
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  auto wait_for = [&](short events) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    return poll(&p, 1, static_cast<int>(left.count())) == 1;
  };
  std::string answer;
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 || errno == EINPROGRESS;
  if (ok && wait_for(POLLOUT)) {
    int err = 0;
    socklen_t len = sizeof(err);
    ok = getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
  } else {
    ok = false;
  }
  // The requests are a few dozen bytes: one send fits in any socket buffer.
  ok = ok && send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                 static_cast<ssize_t>(request.size());
  std::array<char, 4096> buf{};
  while (ok && answer.size() < kMaxAnswer && wait_for(POLLIN)) {
    const ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) break;
    answer.append(buf.data(), static_cast<size_t>(n));
    if (complete != nullptr && complete(answer)) break;
  }
  close(fd);
  return answer;
}

}  // namespace

bool parse_listening(std::string_view out, std::string& host, uint16_t& port) {
  const size_t at = out.find("listening on ");
  if (at == std::string_view::npos) return false;
  const size_t eol = out.find('\n', at);
  if (eol == std::string_view::npos) return false;
  const std::string_view addr = out.substr(at + 13, eol - at - 13);
  const size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos) return false;
  unsigned p = 0;
  const auto [ptr, ec] = std::from_chars(addr.data() + colon + 1, addr.data() + addr.size(), p);
  if (ec != std::errc() || p == 0 || p > 65535) return false;
  host = std::string(addr.substr(0, colon));
  port = static_cast<uint16_t>(p);
  return true;
}

uint16_t pick_free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  uint16_t port = 0;
  auto* sa = reinterpret_cast<sockaddr*>(&a);
  if (bind(fd, sa, sizeof(a)) == 0 && getsockname(fd, sa, &len) == 0) port = ntohs(a.sin_port);
  close(fd);
  return port;
}

bool http_ok(const std::string& host, uint16_t port, const std::string& path, std::string* body) {
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" +
                          std::to_string(port) + "\r\nConnection: close\r\n\r\n";
  const std::string answer = exchange(host, port, req, kProbeTimeoutMs, nullptr);
  if (answer.rfind("HTTP/1.1 200 ", 0) != 0) return false;
  if (body != nullptr) {
    const size_t at = answer.find("\r\n\r\n");
    *body = at == std::string::npos ? std::string() : answer.substr(at + 4);
  }
  return true;
}

bool redis_pong(uint16_t port) {
  const std::string answer = exchange("127.0.0.1", port, "PING\r\n", kProbeTimeoutMs,
                                      [](std::string_view s) { return s.find("\r\n") != s.npos; });
  return answer.rfind("+PONG\r\n", 0) == 0;
}

}  // namespace sb::app
