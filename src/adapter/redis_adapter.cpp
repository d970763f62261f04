#include "adapter/redis_adapter.h"

#include <stdexcept>
#include <string>

#include "adapter/classic_adapter.h"
#include "adapter/redis_bus.h"
#include "adapter/sharded_adapter.h"
#include "net/loop_group.h"
#include "redis/url.h"

namespace sb::adapter {

Result<std::shared_ptr<RedisBus>> make_redis_bus(net::LoopGroup& loops,
                                                 RedisAdapterOptions options) {
  Result<redis::Url> url = redis::parse_url(options.url);
  if (!url) return url.error();
  auto bus = std::make_shared<RedisBus>(loops, *url, std::move(options));
  bus->start();
  return bus;
}

socketio::AdapterFactory make_redis_adapter_factory(std::shared_ptr<RedisBus> bus) {
  return [bus = std::move(bus)](socketio::Namespace& nsp) -> std::unique_ptr<socketio::Adapter> {
    if (bus->options().mode == RedisAdapterMode::kSharded)
      return std::make_unique<ShardedRedisAdapter>(nsp, bus);
    return std::make_unique<ClassicRedisAdapter>(nsp, bus);
  };
}

socketio::AdapterFactory make_redis_adapter_factory(net::LoopGroup& loops,
                                                    RedisAdapterOptions options,
                                                    std::shared_ptr<RedisBus>* bus_out) {
  Result<std::shared_ptr<RedisBus>> bus = make_redis_bus(loops, std::move(options));
  if (!bus) {
    // Start-up configuration: the one place exceptions are the answer (STYLE).
    throw std::invalid_argument("invalid Redis URL: " + std::string(bus.error().reason));
  }
  if (bus_out != nullptr) *bus_out = *bus;
  return make_redis_adapter_factory(*bus);
}

}  // namespace sb::adapter
