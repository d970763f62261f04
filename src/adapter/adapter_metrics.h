#pragma once
// Counters of the cluster adapters (rendered on /metrics).

#include "common/metrics.h"

namespace sb::adapter::metrics {

/// Messages published to Redis (broadcasts, requests, responses).
sb::metrics::Counter& published();
/// Broadcasts not published because this node was known to be alone (docs/adapters.md).
sb::metrics::Counter& publish_skipped();
/// Publishes refused by the Redis client (its bounded queue full during an outage, or stopped).
sb::metrics::Counter& publish_dropped();
/// Messages received from Redis for a namespace of this node.
sb::metrics::Counter& received();
/// Messages dropped because they could not be decoded.
sb::metrics::Counter& decode_errors();
/// Requests to the other nodes (fetchSockets, allRooms, serverSideEmit with ack, broadcast
/// with ack) and how they ended when not every answer came.
sb::metrics::Counter& requests();
sb::metrics::Counter& requests_partial();
sb::metrics::Counter& requests_timed_out();
/// Requests refused because too many were in flight (PendingRequests::kMaxPending).
sb::metrics::Counter& requests_rejected();

}  // namespace sb::adapter::metrics
