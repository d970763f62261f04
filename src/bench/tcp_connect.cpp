#include "bench/tcp_connect.h"

#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/connection.h"
#include "net/loop.h"

namespace sb::bench {

Result<net::Connection*> open_connection(net::Loop& loop, const sockaddr_in& source,
                                         const sockaddr_in& target,
                                         std::unique_ptr<net::ConnectionHandler> handler) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{Errc::kIo, "socket() failed"};
  int one = 1;
  // Choose the source address now but the port at connect() time, so the kernel may reuse a
  // local port towards different destinations (more than ~28k connections per source address
  // to several targets).
  setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&source), sizeof(source)) != 0) {
    ::close(fd);
    return Error{Errc::kIo, "bind() to the source address failed"};
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&target), sizeof(target)) != 0 &&
      errno != EINPROGRESS) {
    const bool ports = errno == EADDRNOTAVAIL;
    ::close(fd);
    return Error{Errc::kIo, ports ? "no free ephemeral port" : "connect() failed"};
  }
  sockaddr_storage peer{};
  std::memcpy(&peer, &target, sizeof(target));
  return loop.adopt(fd, peer, std::move(handler));
}

}  // namespace sb::bench
