#pragma once
// `switchboard lb`: the balancer process. Builds the backend pool, one SO_REUSEPORT listener per
// loop, the health checker on loop 0, prints "listening on HOST:PORT", and runs until SIGINT or
// SIGTERM (then closes its listeners and lets open connections finish, bounded by a timeout).

#include "lb/lb_options.h"

namespace sb::lb {

/// Blocks until a stop signal. Returns the process exit code (0, or 1 when it cannot start).
int run_lb(const LbOptions& options);

}  // namespace sb::lb
