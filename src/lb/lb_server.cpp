#include "lb/lb_server.h"

#include <signal.h>

#include <cstdio>
#include <memory>

#include "common/log.h"
#include "lb/health_checker.h"
#include "lb/proxy.h"
#include "net/loop_group.h"

namespace sb::lb {

int run_lb(const LbOptions& options) {
  if (!log::init(options.log_level)) {
    std::fprintf(stderr, "switchboard lb: unknown log level '%s'\n", options.log_level.c_str());
    return 2;
  }
  std::vector<std::unique_ptr<Backend>> backends;
  for (const std::string& spec : options.backends) {
    auto b = std::make_unique<Backend>();
    auto r = resolve_backend(spec, *b);
    if (!r) {
      std::fprintf(stderr, "switchboard lb: backend '%s': %.*s\n", spec.c_str(),
                   static_cast<int>(r.error().reason.size()), r.error().reason.data());
      return 2;
    }
    backends.push_back(std::move(b));
  }
  if (backends.empty()) {
    std::fprintf(stderr, "switchboard lb: at least one --backend is needed\n");
    return 2;
  }
  LbShared shared{options, BackendPool(std::move(backends))};

  // Stop signals go to sigwait in this thread only; the loops inherit the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  net::LoopOptions lo;
  lo.max_outbound_bytes = options.max_outbound_bytes;
  lo.high_watermark = options.high_watermark;
  lo.low_watermark = options.low_watermark;
  lo.max_connections = options.max_connections;
  net::LoopGroup loops(options.threads, lo);
  auto port = loops.listen(options.listen_host, options.listen_port, [&shared](net::Connection& c) {
    return make_client_session(c, shared);
  });
  if (!port) {
    SB_LOG_ERROR("cannot listen on {}:{}: {}", options.listen_host, options.listen_port,
                 port.error().reason);
    return 1;
  }
  HealthChecker health(loops.loop(0), shared);
  loops.loop(0).post([&health] { health.start(); });
  loops.start();
  SB_LOG_INFO("lb ({}) on {}:{} with {} backends, {} loops", mode_name(options.mode),
              options.listen_host, *port, shared.pool.size(), options.threads);
  std::printf("listening on %s:%u\n", options.listen_host.c_str(), static_cast<unsigned>(*port));
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  SB_LOG_INFO("signal {}: stopping", sig);
  loops.loop(0).post([&health] { health.stop(); });
  loops.shutdown(options.shutdown_timeout_ms);
  SB_LOG_INFO("stopped");
  return 0;
}

}  // namespace sb::lb
