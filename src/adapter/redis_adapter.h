#pragma once
// The Redis adapters: a namespace's adapter (socketio/adapter.h) that extends the in-memory
// adapter to a cluster through Redis, on the wire of Node's `@socket.io/redis-adapter` 8.3 so
// that Node.js and Switchboard nodes (and any Socket.IO Redis emitter) share one cluster.
//
// The application builds one factory per node and hands it to the Socket.IO server:
//
//   auto redis = adapter::make_redis_bus(group, {.url = "redis://127.0.0.1:6379"});  // Result
//   socketio::ServerOptions so;
//   so.adapter = adapter::make_redis_adapter_factory(*redis);
//   ... /readyz: redis.value()->ready()
//
// The node's two Redis connections (publisher, subscriber) live on loop 0 and are shared by
// every namespace (redis_bus.h); local delivery is the in-memory adapter's.

#include <memory>

#include "adapter/redis_adapter_options.h"
#include "common/result.h"
#include "socketio/server.h"

namespace sb::net {
class LoopGroup;
}

namespace sb::adapter {

class RedisBus;

/// Creates the node's Redis connections on loop 0 of `loops` (they connect once the loops
/// run; until then, and during outages, publishes are queued by the client, bounded by
/// `options.max_queue`). Fails on a malformed URL. Call before the loops start, or on any
/// thread: connecting is posted to loop 0.
Result<std::shared_ptr<RedisBus>> make_redis_bus(net::LoopGroup& loops,
                                                 RedisAdapterOptions options);

/// The adapter factory of a node: every namespace gets a Redis adapter (classic or sharded,
/// per the bus's options) on the shared connections.
socketio::AdapterFactory make_redis_adapter_factory(std::shared_ptr<RedisBus> bus);

/// Convenience for the app: make_redis_bus + make_redis_adapter_factory. Throws
/// std::invalid_argument on a malformed URL (start-up configuration only). `bus_out`, when
/// given, receives the bus (for /readyz: RedisBus::ready()).
socketio::AdapterFactory make_redis_adapter_factory(net::LoopGroup& loops,
                                                    RedisAdapterOptions options,
                                                    std::shared_ptr<RedisBus>* bus_out = nullptr);

}  // namespace sb::adapter
