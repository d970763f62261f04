#pragma once

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
}

namespace sb::app {

/// Registers `switchboard cluster ...` on the top-level CLI: a local redis-server (unless --redis
/// names one), N `switchboard serve` nodes with the Redis adapter and `switchboard lb` in front,
/// all child processes of this one, supervised until SIGINT/SIGTERM (docs/cluster.md).
void add_cluster_command(CLI::App& app);

}  // namespace sb::app
