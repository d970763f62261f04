#pragma once

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
}

namespace sb::app {

/// Registers `switchboard lb ...` on the top-level CLI; its callback runs the load balancer.
void add_lb_command(CLI::App& app);

}  // namespace sb::app
