#pragma once

#include "config.h"

namespace sb::app {

/// Runs a node until SIGTERM/SIGINT, then shuts down gracefully. Returns the exit code.
int run_serve(const ServeConfig& cfg);

}  // namespace sb::app
