#pragma once
// The load generator's outgoing TCP connections: non-blocking, from a chosen loopback source
// address, TCP_NODELAY (the loop corks), adopted by a net::Loop with their first handler.

#include <netinet/in.h>

#include <memory>

#include "common/result.h"

namespace sb::net {
class Connection;
class ConnectionHandler;
class Loop;
}  // namespace sb::net

namespace sb::bench {

/// Starts connecting from `source` to `target` and hands the socket to `loop` with `handler`.
/// Bytes written before the connection is established leave once it is (EPOLLOUT). Fails only
/// when no socket could be created or bound (descriptors, addresses, ephemeral ports).
Result<net::Connection*> open_connection(net::Loop& loop, const sockaddr_in& source,
                                         const sockaddr_in& target,
                                         std::unique_ptr<net::ConnectionHandler> handler);

}  // namespace sb::bench
