#pragma once
// Starting an outbound TCP connection for a loop (a Redis server, a proxied backend).
//
// start_connect() returns a non-blocking socket whose connect() is under way (or done); the caller
// hands it to Loop::adopt right away. No writability wait is needed: bytes written before the
// handshake completes stay queued on the Connection (the kernel answers EAGAIN while the socket is
// in SYN_SENT, which arms EPOLLOUT) and leave when it is established. A refused or unreachable
// peer shows up as EPOLLERR, i.e. on_close(kIoError). A connect timeout is the caller's timer.

#include <sys/socket.h>

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace sb::net {

struct ConnectStart {
  int fd = -1;              // non-blocking, close-on-exec, TCP_NODELAY; owned by the caller
  sockaddr_storage peer{};  // the address being connected to
};

/// Resolves `host` (numeric IPv4/IPv6 directly; a name through getaddrinfo, which blocks — done
/// once per attempt, acceptable for a handful of long-lived upstream connections) and starts a
/// non-blocking connect to the first address. `sys_errno` (optional) receives errno on failure.
Result<ConnectStart> start_connect(std::string_view host, uint16_t port, int* sys_errno = nullptr);

}  // namespace sb::net
