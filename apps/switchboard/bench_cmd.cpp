#include "bench_cmd.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include "bench/bench_config.h"
#include "bench/compare.h"
#include "bench/report.h"
#include "bench/runner.h"

namespace sb::app {
namespace {

std::vector<int> parse_pids(const std::string& list) {
  std::vector<int> pids;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) pids.push_back(std::stoi(item));
  }
  return pids;
}

struct CompareArgs {
  std::string target;
  std::string pids;
  int repetitions = 3;
};

int run(bench::BenchConfig cfg, const std::string& pids, const CompareArgs& compare) {
  signal(SIGPIPE, SIG_IGN);
  if (cfg.scenario == "connect" && cfg.steps == 0) cfg.steps = 4;
  bench::CompareOptions copt;
  try {
    cfg.pids = parse_pids(pids);
    copt.pids_b = parse_pids(compare.pids);
  } catch (const std::exception&) {
    std::fprintf(stderr, "switchboard bench: --pids/--compare-pids expect PID[,PID...]\n");
    return 2;
  }
  if (!compare.target.empty()) {
    copt.target_b = compare.target;
    copt.repetitions = compare.repetitions;
    auto r = bench::run_compare(cfg, copt, stdout);
    if (!r) {
      std::fprintf(stderr, "switchboard bench: %.*s\n", static_cast<int>(r.error().reason.size()),
                   r.error().reason.data());
      return 2;
    }
    return r.value();
  }
  auto r = bench::run_bench(cfg);
  if (!r) {
    std::fprintf(stderr, "switchboard bench: %.*s\n", static_cast<int>(r.error().reason.size()),
                 r.error().reason.data());
    return 2;
  }
  const bench::Figures f = bench::compute_figures(r.value());
  bench::print_summary(stdout, r.value(), f);
  std::fflush(stdout);
  if (!cfg.json_path.empty()) {
    std::ofstream out(cfg.json_path);
    out << bench::to_json(r.value(), f);
    if (!out) {
      std::fprintf(stderr, "switchboard bench: cannot write %s\n", cfg.json_path.c_str());
      return 1;
    }
  }
  return r.value().connected > 0 ? 0 : 1;
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto cfg = std::make_shared<bench::BenchConfig>();
  auto pids = std::make_shared<std::string>();
  auto compare = std::make_shared<CompareArgs>();
  auto targets = std::make_shared<std::vector<std::string>>();
  CLI::App* sub = app.add_subcommand(
      "bench",
      "Load generator on the server's own event loop: switchboard bench SCENARIO --target URL");
  sub->add_option("scenario", cfg->scenario,
                  "connect | fanout | cluster | echo | polling | raw-chat | raw-echo")
      ->required();
  sub->add_option("--target", *targets,
                  "Socket.IO scenarios: http://HOST:PORT (or ws://HOST:PORT/socket.io/); raw-*: "
                  "ws://HOST:PORT/PATH; cluster: once per node, the senders' node first")
      ->required();
  sub->add_option("--clients", cfg->clients, "Clients (WebSocket; polling: long-polling)")
      ->capture_default_str();
  sub->add_option("--senders", cfg->senders,
                  "fanout, polling, cluster, raw-chat: clients that send")
      ->capture_default_str();
  sub->add_option("--window", cfg->window, "Closed loop: messages in flight per sender")
      ->capture_default_str();
  sub->add_option("--room", cfg->room, "fanout, polling: the room every client joins")
      ->capture_default_str();
  sub->add_option("--nsp", cfg->nsp, "Socket.IO namespace")->capture_default_str();
  sub->add_option("--steps", cfg->steps,
                  "Connect in N steps, sampling the target's memory after each (connect: 4)");
  sub->add_option("--rate", cfg->rate, "Messages/s in total (0 = closed loop)")
      ->capture_default_str();
  sub->add_option("--size", cfg->size, "Payload bytes (>= 40)")->capture_default_str();
  sub->add_option("--duration", cfg->duration_s, "Measurement window (s)")->capture_default_str();
  sub->add_option("--warmup", cfg->warmup_s, "Warm-up before the window (s)")
      ->capture_default_str();
  sub->add_option("--drain", cfg->drain_s, "Wait for in-flight messages after the window (s)")
      ->capture_default_str();
  sub->add_option("--threads", cfg->threads, "Load-generator event loops")->capture_default_str();
  sub->add_option("--source-ips", cfg->source_ips, "Source addresses, comma-separated")
      ->capture_default_str();
  sub->add_option("--pids", *pids, "Target process ids to sample (CPU, RSS), comma-separated");
  sub->add_option("--json", cfg->json_path, "Write the results as JSON to this file");
  sub->add_flag("--deflate", cfg->deflate, "Offer permessage-deflate");
  sub->add_flag("--binary", cfg->binary, "Send binary frames (default: text)");
  sub->add_option("--connect-concurrency", cfg->connect_concurrency,
                  "Connections in flight during set-up")
      ->capture_default_str();
  sub->add_option("--settle-ms", cfg->settle_ms,
                  "Stepped connect: idle time after each step before the target is sampled "
                  "(default 500)");
  sub->add_option("--connect-timeout", cfg->connect_timeout_s,
                  "Stop starting connections after this many seconds")
      ->capture_default_str();
  sub->add_option("--handshake-timeout-ms", cfg->handshake_timeout_ms,
                  "Per-client limit for connect + handshakes")
      ->capture_default_str();
  sub->add_flag("!--no-progress", cfg->progress, "No progress line per second");
  sub->add_flag("!--read-time", cfg->rx_stamps,
                "Latency to when the generator reads a message, instead of to the kernel's "
                "receive time at the client socket (the default)");
  sub->add_option("--compare", compare->target,
                  "Run the same scenario against this second target too, alternating, and print "
                  "the ratios A/B");
  sub->add_option("--compare-pids", compare->pids, "--compare: its process ids to sample");
  sub->add_option("--reps", compare->repetitions, "--compare: repetitions per target")
      ->capture_default_str();
  sub->callback([cfg, pids, compare, targets] {
    cfg->target = targets->front();
    cfg->more_targets.assign(targets->begin() + 1, targets->end());
    const int code = run(*cfg, *pids, *compare);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace sb::app
