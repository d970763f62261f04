// switchboard: the node binary. Subcommands: `serve` and `bench`; `lb` and `cluster` come with
// their issues. Configuration errors are reported here and exit 2; nothing below main throws
// past start-up.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "bench_cmd.h"
#include "cluster_cmd.h"
#include "config.h"
#include "lb_cmd.h"
#include "serve.h"

namespace {

int run(int argc, char** argv) {
  CLI::App app{"Switchboard: a Socket.IO-compatible real-time server"};
  app.require_subcommand(1);
  sb::app::ServeConfig serve_cfg;
  CLI::App* serve = app.add_subcommand("serve", "Run a node (HTTP, WebSocket, raw endpoints)");
  sb::app::add_serve_flags(*serve, serve_cfg);
  sb::app::add_bench_command(app);  // runs from its own callback
  sb::app::add_lb_command(app);     // runs from its own callback
  sb::app::add_cluster_command(app);
  CLI11_PARSE(app, argc, argv);

  if (serve->parsed()) {
    sb::app::apply_config_file(*serve, serve_cfg);
    sb::app::finalize(serve_cfg, argv[0]);
    return sb::app::run_serve(serve_cfg);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "switchboard: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "switchboard: unexpected error\n");
  }
  return 2;
}
