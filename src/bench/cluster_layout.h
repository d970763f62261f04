#pragma once
// Which target (node) a client of the `cluster` scenario connects to. The senders (ids
// 0 .. senders-1) all sit on the first target, so a delivery to a client on the first target is
// "local" (the sender's node broadcast it itself) and one to a client on any other target is
// "remote" (it went through the adapter: Redis and back). Receivers are spread round-robin over
// every target, so both kinds are measured in the same run.

#include <cstdint>

namespace sb::bench {

/// Target index (0-based) of client `id` with `senders` senders over `targets` targets.
inline uint32_t cluster_target_of(uint32_t id, uint32_t senders, uint32_t targets) {
  if (targets <= 1 || id < senders) return 0;
  return id % targets;
}

}  // namespace sb::bench
