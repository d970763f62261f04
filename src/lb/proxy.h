#pragma once
// The balancer's data path: one ClientSession per accepted connection, and for it at most one
// upstream connection (to the backend the current request was routed to), on the same loop.
//
// HTTP: each request head is parsed (http::RequestParser), routed, rewritten (hop-by-hop headers
// dropped, X-Forwarded-For/-Proto added) and sent upstream; the body follows as it arrives. The
// client is not read again until the response is complete: one request in flight per client
// connection, so a response can never be attributed to the wrong request. The upstream connection
// is kept alive and reused only by the *same* client connection, and only while its requests keep
// routing to the same backend; a request routed elsewhere closes it and opens a new one. That is
// how keep-alive on both sides never carries one session's request to another session's node.
//
// WebSocket: after the backend's 101 both connections become a byte tunnel. Backpressure: when
// one side's outbound queue passes the high watermark the other side stops being read, and its
// on_drain (below the low watermark) resumes it — memory per tunnel stays bounded.

#include <memory>

#include "lb/lb_options.h"
#include "net/connection.h"

namespace sb::lb {

/// The handler factory for the balancer's listener.
std::unique_ptr<net::ConnectionHandler> make_client_session(net::Connection& c, LbShared& shared);

/// Opens a non-blocking TCP connection (connect in progress is fine: writes queue until it
/// completes, and a refused connect surfaces as an I/O error close). Returns the fd.
Result<int> connect_nonblocking(const sockaddr_storage& addr, socklen_t len);

}  // namespace sb::lb
