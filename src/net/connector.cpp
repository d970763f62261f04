#include "net/connector.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace sb::net {
namespace {

bool numeric_address(const std::string& host, uint16_t port, sockaddr_storage& out) {
  std::memset(&out, 0, sizeof(out));
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return true;
  }
  return false;
}

bool resolve(const std::string& host, uint16_t port, sockaddr_storage& out, int* sys_errno) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0 || res == nullptr) {
    if (sys_errno != nullptr) *sys_errno = rc == EAI_SYSTEM ? errno : EHOSTUNREACH;
    return false;
  }
  std::memset(&out, 0, sizeof(out));
  std::memcpy(&out, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  return true;
}

}  // namespace

Result<ConnectStart> start_connect(std::string_view host, uint16_t port, int* sys_errno) {
  ConnectStart cs;
  std::string h(host);
  if (!numeric_address(h, port, cs.peer) && !resolve(h, port, cs.peer, sys_errno)) {
    return Error{Errc::kIo, "cannot resolve host"};
  }
  cs.fd = ::socket(cs.peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (cs.fd < 0) {
    if (sys_errno != nullptr) *sys_errno = errno;
    return Error{Errc::kIo, "socket() failed"};
  }
  int one = 1;
  setsockopt(cs.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const socklen_t len = cs.peer.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  // EINTR on a non-blocking connect means it goes on in the background, like EINPROGRESS.
  int rc = ::connect(cs.fd, reinterpret_cast<const sockaddr*>(&cs.peer), len);
  if (rc != 0 && errno != EINPROGRESS && errno != EINTR) {
    if (sys_errno != nullptr) *sys_errno = errno;
    ::close(cs.fd);
    return Error{Errc::kIo, "connect() failed"};
  }
  return cs;
}

}  // namespace sb::net
