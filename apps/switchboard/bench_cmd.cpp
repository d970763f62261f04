#include "bench_cmd.h"

#include <CLI/CLI.hpp>

namespace sb::app {

void add_bench_command(CLI::App& app) {
  app.add_subcommand("bench", "Load generator (scenarios arrive with the bench issue)");
}

}  // namespace sb::app
