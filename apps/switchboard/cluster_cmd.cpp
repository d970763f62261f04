// `switchboard cluster`: a whole cluster on one machine for development and demos — a local
// redis-server (unless --redis names one), N `switchboard serve` nodes with the Redis adapter and
// `switchboard lb` in front, each a child process of this one, which only supervises: it waits
// until everything is ready, prints the URL and the node table, reports a child that dies, and on
// SIGINT/SIGTERM stops the balancer, then the nodes, then Redis (SIGTERM, SIGKILL after a grace
// period), and exits 0.
//
// The balancer runs as a child rather than in this process: its server blocks in sigwait and
// owns the stop signals, and PR_SET_PDEATHSIG fires when the *thread* that forked dies, so a
// single-threaded supervisor is the simplest arrangement in which every child reliably dies with
// it. This process never starts a thread, so anything may be called between fork and exec.

#include "cluster_cmd.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "startup_probe.h"

namespace sb::app {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxKeptOutput = 64 * 1024;  // a child's stdout kept until its listening line
constexpr int kMaxRedisAttempts = 5;          // a free port can be taken between pick and bind

struct ClusterOptions {
  int nodes = 3;
  std::string redis_url;  // empty: start a local redis-server on a free port
  std::string lb_mode = "sid";
  std::string host = "127.0.0.1";  // the balancer's listen address (nodes: 127.0.0.1)
  uint16_t port = 3000;
  int threads = 1;  // event loops per node
  std::string app = "chat";
  std::string web_root;
  std::string log_level = "warn";  // the children's; this process logs at info
  std::vector<std::string> node_args;
  std::vector<std::string> lb_args;
  uint32_t ready_timeout_ms = 20000;
  uint32_t grace_ms = 8000;  // must exceed serve's --shutdown-timeout-ms (5 s)
};

enum class Role : uint8_t { kRedis, kNode, kLb };

struct Child {
  Role role = Role::kNode;
  int node_id = -1;
  pid_t pid = -1;
  int out_fd = -1;  // read end of its stdout pipe; -1 when not captured or closed
  std::string out;  // stdout until the listening line (bounded)
  std::string host;
  uint16_t port = 0;
  bool listening = false;
  bool running = false;
  int status = 0;  // waitpid status once it has exited
};

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "stopped (status " + std::to_string(status) + ")";
}

std::string role_name(const Child& c) {
  switch (c.role) {
    case Role::kRedis:
      return "redis-server";
    case Role::kLb:
      return "the balancer";
    case Role::kNode:
      break;
  }
  return "node " + std::to_string(c.node_id);
}

class Supervisor {
 public:
  explicit Supervisor(ClusterOptions opts) : opts_(std::move(opts)) {}
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;
  ~Supervisor();

  int run();

 private:
  bool setup();
  bool start_redis();
  bool start_nodes();
  bool start_lb();
  bool spawn(Child& c, const std::vector<std::string>& argv, bool capture_stdout);
  // Waits (pumping signals and output) until `done()` or a deadline, a stop request, or the
  // death of a child that must be alive. Returns whether `done()` became true.
  template <typename Done>
  bool wait_until(Done done, uint32_t timeout_ms, const char* what);
  void pump(int timeout_ms);
  void handle_signals();
  void read_output(Child& c);
  void reap();
  void stop_children(Role role);
  void print_table() const;
  std::vector<Child*> of(Role role);

  ClusterOptions opts_;
  std::string exe_;
  std::string redis_url_;
  std::string tmp_dir_;
  std::vector<std::unique_ptr<Child>> children_;
  int sigfd_ = -1;
  sigset_t old_mask_{};
  pid_t self_ = 0;
  bool stop_requested_ = false;  // a signal or a dead balancer: leave the main loop
  bool stopping_ = false;        // shutdown started: exits are expected, not reported
  bool hurry_ = false;           // a second signal during shutdown: SIGKILL now
  bool started_ = false;         // the table was printed: the cluster is up
  bool startup_failed_ = false;  // a child that had to live died during start-up
  int exit_code_ = 0;
};

Supervisor::~Supervisor() {
  // Normally everything was stopped in order; this only catches an early return or exception.
  for (auto& c : children_) {
    if (c->running) {
      kill(c->pid, SIGKILL);
      waitpid(c->pid, nullptr, 0);
    }
    if (c->out_fd >= 0) close(c->out_fd);
  }
  if (sigfd_ >= 0) close(sigfd_);
  if (!tmp_dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(tmp_dir_, ec);
  }
  sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
}

std::vector<Child*> Supervisor::of(Role role) {
  std::vector<Child*> out;
  for (auto& c : children_) {
    if (c->role == role) out.push_back(c.get());
  }
  return out;
}

bool Supervisor::setup() {
  std::error_code ec;
  exe_ = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) {
    SB_LOG_ERROR("cluster: cannot find this binary (/proc/self/exe): {}", ec.message());
    return false;
  }
  self_ = getpid();
  // Stop signals and SIGCHLD arrive on a signalfd, read in the poll loop with the children's
  // output: no handler, no race between a check and a sleep.
  sigset_t set;
  sigemptyset(&set);
  for (const int s : {SIGINT, SIGTERM, SIGHUP, SIGCHLD})
    sigaddset(&set, s);
  sigprocmask(SIG_BLOCK, &set, &old_mask_);
  sigfd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sigfd_ < 0) {
    SB_LOG_ERROR("cluster: signalfd: {}", std::strerror(errno));
    return false;
  }
  signal(SIGPIPE, SIG_IGN);
  return true;
}

// The child gets its own process group (a Ctrl-C at the terminal reaches only this process,
// which then stops the children in order), an empty signal mask (the mask survives exec:
// redis-server would never see SIGTERM) and PR_SET_PDEATHSIG, so a `kill -9` of this process
// leaves no orphan: each child gets SIGTERM and shuts down as if we had sent it.
bool Supervisor::spawn(Child& c, const std::vector<std::string>& argv, bool capture_stdout) {
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const std::string& a : argv)
    cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::array<int, 2> pipe_fds{-1, -1};
  if (capture_stdout && pipe2(pipe_fds.data(), O_CLOEXEC) != 0) {
    SB_LOG_ERROR("cluster: pipe: {}", std::strerror(errno));
    return false;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    SB_LOG_ERROR("cluster: fork: {}", std::strerror(errno));
    if (capture_stdout) {
      close(pipe_fds[0]);
      close(pipe_fds[1]);
    }
    return false;
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != self_) _exit(1);  // the supervisor died before prctl took effect
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (capture_stdout) {
      dup2(pipe_fds[1], STDOUT_FILENO);  // dup2 clears O_CLOEXEC on the copy
    } else {
      dup2(STDERR_FILENO, STDOUT_FILENO);  // redis-server's log goes with ours, on stderr
    }
    execvp(cargv[0], cargv.data());
    const std::string msg =
        "switchboard cluster: cannot run " + argv[0] + ": " + std::strerror(errno) + "\n";
    (void)!write(STDERR_FILENO, msg.data(), msg.size());
    _exit(127);
  }
  c.pid = pid;
  c.running = true;
  if (capture_stdout) {
    close(pipe_fds[1]);
    c.out_fd = pipe_fds[0];
    fcntl(c.out_fd, F_SETFL, fcntl(c.out_fd, F_GETFL) | O_NONBLOCK);
  }
  return true;
}

void Supervisor::pump(int timeout_ms) {
  std::vector<pollfd> fds{{sigfd_, POLLIN, 0}};
  std::vector<Child*> owners{nullptr};
  for (auto& c : children_) {
    if (c->out_fd >= 0) {
      fds.push_back({c->out_fd, POLLIN, 0});
      owners.push_back(c.get());
    }
  }
  if (poll(fds.data(), fds.size(), timeout_ms) > 0) {
    for (size_t i = 1; i < fds.size(); ++i) {
      if (fds[i].revents != 0) read_output(*owners[i]);
    }
    if (fds[0].revents != 0) handle_signals();
  }
  reap();  // SIGCHLD coalesces; reaping on every turn also covers a child that exited meanwhile
}

void Supervisor::handle_signals() {
  signalfd_siginfo si{};
  while (read(sigfd_, &si, sizeof(si)) == static_cast<ssize_t>(sizeof(si))) {
    const int sig = static_cast<int>(si.ssi_signo);
    if (sig == SIGCHLD) continue;
    if (stopping_) {
      if (!hurry_) SB_LOG_WARN("cluster: signal {} again: killing what is left now", sig);
      hurry_ = true;
    } else if (!stop_requested_) {
      SB_LOG_INFO("cluster: signal {} ({}): stopping", sig, strsignal(sig));
    }
    stop_requested_ = true;
  }
}

void Supervisor::read_output(Child& c) {
  std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = read(c.out_fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      close(c.out_fd);
      c.out_fd = -1;
      return;
    }
    if (c.listening) {
      // Anything a child prints after its listening line is passed on untouched.
      std::fwrite(buf.data(), 1, static_cast<size_t>(n), stdout);
      std::fflush(stdout);
      continue;
    }
    if (c.out.size() < kMaxKeptOutput) c.out.append(buf.data(), static_cast<size_t>(n));
    c.listening = parse_listening(c.out, c.host, c.port);
  }
}

void Supervisor::reap() {
  int status = 0;
  pid_t pid = 0;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (auto& c : children_) {
      if (c->pid != pid || !c->running) continue;
      c->running = false;
      c->status = status;
      if (stopping_) break;
      if (!started_) {
        SB_LOG_ERROR("cluster: {} (pid {}) {} during start-up", role_name(*c), pid,
                     describe_exit(status));
        startup_failed_ = true;
        break;
      }
      const std::string where = c->port != 0 ? c->host + ":" + std::to_string(c->port) : "-";
      switch (c->role) {
        case Role::kNode:
          SB_LOG_ERROR(
              "cluster: node {} (pid {}, {}) {}; the balancer takes it out after failed health "
              "checks, the other nodes keep serving",
              c->node_id, pid, where, describe_exit(status));
          break;
        case Role::kRedis:
          SB_LOG_ERROR(
              "cluster: redis-server (pid {}, {}) {}; the nodes keep serving their own clients "
              "and reconnect when a Redis is back at {}",
              pid, where, describe_exit(status), redis_url_);
          break;
        case Role::kLb:
          SB_LOG_ERROR("cluster: the balancer (pid {}, {}) {}; nothing reaches the nodes: stopping",
                       pid, where, describe_exit(status));
          stop_requested_ = true;
          exit_code_ = 1;
          break;
      }
      break;
    }
  }
}

template <typename Done>
bool Supervisor::wait_until(Done done, uint32_t timeout_ms, const char* what) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (done()) return true;
    if (stop_requested_ || startup_failed_) return false;
    if (Clock::now() > deadline) {
      SB_LOG_ERROR("cluster: timed out after {} ms waiting for {}", timeout_ms, what);
      return false;
    }
    pump(100);
  }
}

bool Supervisor::start_redis() {
  const std::string tmpl = (std::filesystem::temp_directory_path() / "sb-cluster-XXXXXX").string();
  std::vector<char> path(tmpl.begin(), tmpl.end());
  path.push_back('\0');
  if (mkdtemp(path.data()) == nullptr) {
    SB_LOG_ERROR("cluster: mkdtemp: {}", std::strerror(errno));
    return false;
  }
  tmp_dir_ = path.data();
  for (int attempt = 1; attempt <= kMaxRedisAttempts; ++attempt) {
    const uint16_t port = pick_free_port();
    if (port == 0) continue;
    auto c = std::make_unique<Child>();
    c->role = Role::kRedis;
    c->host = "127.0.0.1";
    c->port = port;
    Child& redis = *c;
    children_.push_back(std::move(c));
    // No persistence: a development cluster's Redis is a message bus, nothing to keep.
    if (!spawn(redis,
               {"redis-server", "--port", std::to_string(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", tmp_dir_, "--daemonize", "no", "--loglevel",
                "warning", "--protected-mode", "yes"},
               false)) {
      return false;
    }
    // Not through wait_until: a redis-server that exits (port taken meanwhile) means "retry".
    const auto deadline = Clock::now() + std::chrono::milliseconds(opts_.ready_timeout_ms);
    while (redis.running && !stop_requested_ && Clock::now() < deadline && !redis_pong(port)) {
      pump(50);
    }
    if (stop_requested_) return false;
    if (redis.running && redis_pong(port)) {
      redis_url_ = "redis://127.0.0.1:" + std::to_string(port);
      return true;
    }
    if (redis.running) {
      kill(redis.pid, SIGKILL);
      waitpid(redis.pid, nullptr, 0);
      redis.running = false;
    } else if (WIFEXITED(redis.status) && WEXITSTATUS(redis.status) == 127) {
      SB_LOG_ERROR("cluster: redis-server is not installed: install it or pass --redis URL");
      return false;
    }
    SB_LOG_WARN("cluster: redis-server on port {} did not start (attempt {}), retrying", port,
                attempt);
    startup_failed_ = false;  // this Redis is replaced, not fatal
  }
  SB_LOG_ERROR("cluster: could not start redis-server");
  return false;
}

bool Supervisor::start_nodes() {
  for (int i = 1; i <= opts_.nodes; ++i) {
    auto c = std::make_unique<Child>();
    c->role = Role::kNode;
    c->node_id = i;
    std::vector<std::string> argv{exe_,          "serve",
                                  "--host",      "127.0.0.1",
                                  "--port",      "0",
                                  "--threads",   std::to_string(opts_.threads),
                                  "--node-id",   std::to_string(i),
                                  "--adapter",   "redis",
                                  "--redis",     redis_url_,
                                  "--app",       opts_.app,
                                  "--log-level", opts_.log_level};
    if (!opts_.web_root.empty()) argv.insert(argv.end(), {"--web-root", opts_.web_root});
    argv.insert(argv.end(), opts_.node_args.begin(), opts_.node_args.end());
    const bool ok = spawn(*c, argv, true);
    children_.push_back(std::move(c));
    if (!ok) return false;
  }
  const std::vector<Child*> nodes = of(Role::kNode);
  auto all = [&nodes](bool (*pred)(Child&)) {
    for (Child* n : nodes) {
      if (!pred(*n)) return false;
    }
    return true;
  };
  if (!wait_until([&] { return all([](Child& n) { return n.listening; }); }, opts_.ready_timeout_ms,
                  "the nodes to listen")) {
    return false;
  }
  // Ready = serving and connected to Redis, and counted by the other nodes (docs/cluster.md).
  return wait_until(
      [&] { return all([](Child& n) { return http_ok(n.host, n.port, "/readyz", nullptr); }); },
      opts_.ready_timeout_ms, "every node's /readyz (is Redis reachable?)");
}

bool Supervisor::start_lb() {
  auto c = std::make_unique<Child>();
  c->role = Role::kLb;
  Child& lb = *c;
  children_.push_back(std::move(c));
  std::vector<std::string> argv{
      exe_,     "lb",          "--listen",    opts_.host + ":" + std::to_string(opts_.port),
      "--mode", opts_.lb_mode, "--log-level", opts_.log_level};
  for (Child* n : of(Role::kNode)) {
    argv.insert(argv.end(), {"--backend", n->host + ":" + std::to_string(n->port)});
  }
  argv.insert(argv.end(), opts_.lb_args.begin(), opts_.lb_args.end());
  if (!spawn(lb, argv, true)) return false;
  if (!wait_until([&lb] { return lb.listening; }, opts_.ready_timeout_ms,
                  "the balancer to listen")) {
    return false;
  }
  // sid routing needs each backend's node id, learned from its health answer: until then a
  // polling request could be sent to the wrong node.
  return wait_until(
      [&lb] {
        std::string body;
        return http_ok(lb.host, lb.port, "/lb/backends", &body) &&
               body.find("\"nodeId\":-1") == std::string::npos &&
               body.find("\"up\":false") == std::string::npos;
      },
      opts_.ready_timeout_ms, "the balancer to see every node up");
}

void Supervisor::print_table() const {
  const Child* lb = nullptr;
  for (const auto& c : children_) {
    if (c->role == Role::kLb) lb = c.get();
  }
  const std::string host = lb->host == "0.0.0.0" ? "127.0.0.1" : lb->host;
  std::printf("switchboard cluster: %d node%s behind the balancer (%s mode), Redis %s\n",
              opts_.nodes, opts_.nodes == 1 ? "" : "s", opts_.lb_mode.c_str(), redis_url_.c_str());
  std::printf("  %-6s %-5s %-22s %s\n", "role", "node", "address", "pid");
  auto row = [](const char* role, const std::string& id, const std::string& addr,
                const std::string& pid) {
    std::printf("  %-6s %-5s %-22s %s\n", role, id.c_str(), addr.c_str(), pid.c_str());
  };
  row("lb", "-", lb->host + ":" + std::to_string(lb->port), std::to_string(lb->pid));
  for (const auto& c : children_) {
    if (c->role == Role::kNode) {
      row("node", std::to_string(c->node_id), c->host + ":" + std::to_string(c->port),
          std::to_string(c->pid));
    }
  }
  bool local_redis = false;
  for (const auto& c : children_) {
    if (c->role == Role::kRedis && c->running) {
      row("redis", "-", c->host + ":" + std::to_string(c->port), std::to_string(c->pid));
      local_redis = true;
    }
  }
  if (!local_redis) row("redis", "-", redis_url_, "(external)");
  std::printf("cluster ready at http://%s:%u/ (Ctrl-C stops everything)\n", host.c_str(),
              static_cast<unsigned>(lb->port));
  std::fflush(stdout);
}

// SIGTERM to every running child of `role`, SIGKILL to what is left after the grace period (or
// at once after a second stop signal).
void Supervisor::stop_children(Role role) {
  std::vector<Child*> list = of(role);
  for (Child* c : list) {
    if (c->running) kill(c->pid, SIGTERM);
  }
  auto any_running = [&list] {
    for (Child* c : list) {
      if (c->running) return true;
    }
    return false;
  };
  const auto deadline = Clock::now() + std::chrono::milliseconds(opts_.grace_ms);
  while (any_running() && !hurry_ && Clock::now() < deadline)
    pump(100);
  for (Child* c : list) {
    if (!c->running) {
      if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0) {
        SB_LOG_WARN("cluster: {} (pid {}) {}", role_name(*c), c->pid, describe_exit(c->status));
      }
      continue;
    }
    SB_LOG_WARN("cluster: {} (pid {}) still running after SIGTERM: SIGKILL", role_name(*c), c->pid);
    kill(c->pid, SIGKILL);
    waitpid(c->pid, &c->status, 0);
    c->running = false;
  }
}

int Supervisor::run() {
  if (!setup()) return 1;
  bool ok = true;
  if (opts_.redis_url.empty()) {
    ok = start_redis();
  } else {
    redis_url_ = opts_.redis_url;
  }
  ok = ok && start_nodes() && start_lb();
  if (ok) {
    started_ = true;
    print_table();
    while (!stop_requested_)
      pump(1000);
  } else if (!stop_requested_) {
    exit_code_ = 1;
  }
  stopping_ = true;
  stop_children(Role::kLb);
  stop_children(Role::kNode);
  stop_children(Role::kRedis);
  SB_LOG_INFO("cluster: stopped");
  return exit_code_;
}

}  // namespace

void add_cluster_command(CLI::App& app) {
  auto opts = std::make_shared<ClusterOptions>();
  CLI::App* sub = app.add_subcommand(
      "cluster", "Run a local cluster: redis-server, N nodes (Redis adapter) and the balancer");
  sub->add_option("--nodes", opts->nodes, "Number of `switchboard serve` nodes (ids 1..N)")
      ->capture_default_str()
      ->check(CLI::Range(1, 32));
  sub->add_option("--redis", opts->redis_url,
                  "Use this Redis (redis://host:port) instead of starting a local redis-server");
  sub->add_option("--lb-mode", opts->lb_mode, "Stickiness: sid | cookie | ip-hash")
      ->capture_default_str()
      ->check(CLI::IsMember({"sid", "cookie", "ip-hash"}));
  sub->add_option("--host", opts->host, "IPv4 address the balancer listens on")
      ->capture_default_str();
  sub->add_option("--port", opts->port, "Port the balancer listens on (0: any free port)")
      ->capture_default_str();
  sub->add_option("--threads", opts->threads, "Event loops per node")
      ->capture_default_str()
      ->check(CLI::Range(1, 60));
  sub->add_option("--app", opts->app, "Built-in app of the nodes: chat | conformance | bench")
      ->capture_default_str()
      ->check(CLI::IsMember({"chat", "conformance", "bench"}));
  sub->add_option("--web-root", opts->web_root, "Static files of the nodes (default: the build's)");
  sub->add_option("--log-level", opts->log_level, "Log level of the nodes and the balancer")
      ->capture_default_str();
  sub->add_option("--node-arg", opts->node_args,
                  "Extra flag for every node, e.g. --node-arg=--ping-interval-ms=1000 (repeat)");
  sub->add_option("--lb-arg", opts->lb_args,
                  "Extra flag for the balancer, e.g. --lb-arg=--health-interval-ms=500 (repeat)");
  sub->add_option("--ready-timeout-ms", opts->ready_timeout_ms,
                  "How long each start-up step may take")
      ->capture_default_str();
  sub->add_option("--grace-ms", opts->grace_ms, "On stop: SIGTERM, then SIGKILL after this")
      ->capture_default_str();
  sub->callback([opts] {
    in_addr probe{};
    if (inet_pton(AF_INET, opts->host.c_str(), &probe) != 1) {
      throw CLI::ValidationError("--host", "expects an IPv4 address");
    }
    if (!log::init("info")) throw CLI::RuntimeError(2);
    const int code = Supervisor(*opts).run();
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace sb::app
