#pragma once

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
}

namespace sb::app {

/// Registers `switchboard bench ...` on the top-level CLI; its callback runs the load generator.
void add_bench_command(CLI::App& app);

}  // namespace sb::app
