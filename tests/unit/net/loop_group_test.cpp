// LoopGroup over real TCP on 127.0.0.1 (port 0): SO_REUSEPORT listeners per loop, node-wide
// admission, graceful shutdown, and the EMFILE back-off (in a forked child with a lowered
// RLIMIT_NOFILE, so the limit cannot affect other tests).
//
// Clients are blocking sockets with receive timeouts: a bug fails an expectation, never hangs.

#include "net/loop_group.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <csignal>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/metrics.h"
#include "net/connection.h"
#include "net/loop.h"

namespace sb::net {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int64_t metric(const std::string& name) {
  int64_t v = metrics::value_of(name);
  return v < 0 ? 0 : v;
}
const char* const kRejected = "sb_connections_rejected_total{reason=\"limit\"}";
const char* const kAccepted = "sb_connections_accepted_total";
const char* const kAcceptErrors = "sb_accept_errors_total";

template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

void set_timeouts(int fd, int ms) {
  timeval tv{ms / 1000, (ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

// A blocking TCP client with timeouts.
class Client {
 public:
  explicit Client(uint16_t port, int timeout_ms = 10000) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    set_timeouts(fd_, timeout_ms);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      connect_errno_ = errno;
      ::close(fd_);
      fd_ = -1;
    }
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  ~Client() { close(); }
  bool connected() const { return fd_ >= 0; }
  int connect_errno() const { return connect_errno_; }
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool send(std::string_view s) {
    while (!s.empty()) {
      ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      s.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  std::string recv_n(size_t n) {
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
      ssize_t r = ::recv(fd_, out.data() + got, n - got, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<size_t>(r);
    }
    out.resize(got);
    return out;
  }
  /// Reads until EOF; returns the bytes. `eof` tells an orderly EOF (or reset) from a timeout.
  std::string recv_to_eof(bool* eof) {
    std::string out;
    char buf[4096];
    *eof = false;
    for (;;) {
      ssize_t r = ::recv(fd_, buf, sizeof(buf), 0);
      if (r < 0 && errno == EINTR) continue;
      if (r == 0 || (r < 0 && errno == ECONNRESET)) {
        *eof = true;
        break;
      }
      if (r < 0) break;  // timeout
      out.append(buf, static_cast<size_t>(r));
    }
    return out;
  }
  bool echo_roundtrip(const std::string& msg) { return send(msg) && recv_n(msg.size()) == msg; }

 private:
  int fd_ = -1;
  int connect_errno_ = 0;
};

std::string_view as_sv(std::span<uint8_t> d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

// Echo handler with optional shutdown/close hooks; counts which loop served it.
struct GroupHooks {
  std::function<void(Connection&)> shutdown = {};
  std::function<void(Connection&, CloseReason)> close = {};
};

class EchoHandler : public ConnectionHandler {
 public:
  explicit EchoHandler(GroupHooks h) : h_(std::move(h)) {}
  size_t on_data(Connection& c, std::span<uint8_t> d) override {
    c.write(as_sv(d));
    return d.size();
  }
  void on_shutdown(Connection& c) override {
    if (h_.shutdown) {
      h_.shutdown(c);
    } else {
      ConnectionHandler::on_shutdown(c);
    }
  }
  void on_close(Connection& c, CloseReason r) override {
    if (h_.close) h_.close(c, r);
  }

 private:
  GroupHooks h_;
};

struct Stats {
  std::atomic<int> per_loop[4] = {};
  std::atomic<int> shutdowns{0};
  std::atomic<int> closes{0};
  std::mutex mu;
  std::vector<CloseReason> reasons;
};

HandlerFactory echo_factory(Stats* stats, GroupHooks hooks = {}) {
  return [stats, hooks](Connection& c) -> std::unique_ptr<ConnectionHandler> {
    if (stats) stats->per_loop[c.loop().index()].fetch_add(1);
    GroupHooks h = hooks;
    if (stats) {
      auto inner_close = hooks.close;
      h.close = [stats, inner_close](Connection& conn, CloseReason r) {
        {
          std::lock_guard lock(stats->mu);
          stats->reasons.push_back(r);
        }
        stats->closes.fetch_add(1);
        if (inner_close) inner_close(conn, r);
      };
      auto inner_shutdown = hooks.shutdown;
      h.shutdown = [stats, inner_shutdown](Connection& conn) {
        stats->shutdowns.fetch_add(1);
        if (inner_shutdown) {
          inner_shutdown(conn);
        } else {
          conn.close(CloseReason::kShutdown);
        }
      };
    }
    return std::make_unique<EchoHandler>(std::move(h));
  };
}

// ============================================================================================

TEST(LoopGroupTest, ListenOnAnAddressWeDoNotHaveFails) {
  // 192.0.2.1 (TEST-NET-1) is numeric, so no resolver is involved, and it is not ours: bind fails.
  LoopGroup g(1, LoopOptions{});
  auto r = g.listen("192.0.2.1", 0, echo_factory(nullptr));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::kIo);
  EXPECT_FALSE(make_listen_socket("192.0.2.1", 0).ok());
}

TEST(LoopGroupTest, MakeListenSocketAndLocalPort) {
  auto fd = make_listen_socket("127.0.0.1", 0);
  ASSERT_TRUE(fd.ok());
  uint16_t port = local_port(*fd);
  EXPECT_NE(port, 0);
  // SO_REUSEPORT: a second socket can join the same port.
  auto fd2 = make_listen_socket("127.0.0.1", port);
  ASSERT_TRUE(fd2.ok());
  EXPECT_EQ(local_port(*fd2), port);
  ::close(*fd);
  ::close(*fd2);
}

TEST(LoopGroupTest, TwoLoopsServeTwoHundredEchoClients) {
  constexpr int kClients = 200;
  Stats stats;
  LoopGroup g(2, LoopOptions{});
  ASSERT_EQ(g.size(), 2);
  auto port = g.listen("127.0.0.1", 0, echo_factory(&stats));
  ASSERT_TRUE(port.ok());
  ASSERT_NE(*port, 0);
  const int64_t accepted_before = metric(kAccepted);
  g.start();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(*port));
    ASSERT_TRUE(clients.back()->connected()) << "client " << i;
  }
  for (int i = 0; i < kClients; ++i) {
    std::string msg =
        "client-" + std::to_string(i) + "|" + std::string(static_cast<size_t>(i), 'x');
    ASSERT_TRUE(clients[static_cast<size_t>(i)]->echo_roundtrip(msg)) << "client " << i;
  }
  // Interleaved second round: every connection keeps its own stream.
  for (int i = kClients - 1; i >= 0; --i) {
    ASSERT_TRUE(clients[static_cast<size_t>(i)]->echo_roundtrip("again-" + std::to_string(i)));
  }
  EXPECT_EQ(g.connection_count(), static_cast<uint32_t>(kClients));
  EXPECT_EQ(stats.per_loop[0] + stats.per_loop[1], kClients);
  EXPECT_GT(stats.per_loop[0].load(), 0) << "SO_REUSEPORT should spread clients over both loops";
  EXPECT_GT(stats.per_loop[1].load(), 0) << "SO_REUSEPORT should spread clients over both loops";
  EXPECT_EQ(metric(kAccepted) - accepted_before, kClients);
  clients.clear();
  EXPECT_TRUE(wait_until([&] { return g.connection_count() == 0; }));
  EXPECT_TRUE(wait_until([&] { return stats.closes.load() == kClients; }));
  g.stop();
  std::lock_guard lock(stats.mu);
  for (CloseReason r : stats.reasons)
    EXPECT_EQ(r, CloseReason::kPeerClosed);
}

TEST(LoopGroupTest, MaxConnectionsRejectsTheSixth) {
  LoopOptions o;
  o.max_connections = 5;
  Stats stats;
  LoopGroup g(2, o);
  auto port = g.listen("127.0.0.1", 0, echo_factory(&stats));
  ASSERT_TRUE(port.ok());
  g.start();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 5; ++i) {
    clients.push_back(std::make_unique<Client>(*port));
    ASSERT_TRUE(clients.back()->echo_roundtrip("hi" + std::to_string(i))) << i;
  }
  EXPECT_EQ(g.connection_count(), 5u);
  const int64_t rejected_before = metric(kRejected);
  {
    Client sixth(*port);
    ASSERT_TRUE(sixth.connected());  // the kernel completes the handshake; the server then closes
    bool eof = false;
    std::string got = sixth.recv_to_eof(&eof);
    EXPECT_TRUE(eof) << "the sixth client must be closed by the server";
    EXPECT_EQ(got, "");
  }
  EXPECT_TRUE(wait_until([&] { return metric(kRejected) - rejected_before == 1; }));
  EXPECT_EQ(g.connection_count(), 5u);
  EXPECT_EQ(stats.per_loop[0] + stats.per_loop[1], 5) << "no handler for a rejected connection";
  // Room again once one leaves.
  clients[2]->close();
  ASSERT_TRUE(wait_until([&] { return g.connection_count() == 4; }));
  Client seventh(*port);
  EXPECT_TRUE(seventh.echo_roundtrip("welcome"));
  EXPECT_EQ(g.connection_count(), 5u);
  for (size_t i = 0; i < clients.size(); ++i) {
    if (i != 2) {
      EXPECT_TRUE(clients[i]->echo_roundtrip("still")) << i;
    }
  }
  EXPECT_EQ(metric(kRejected) - rejected_before, 1);
  g.stop();
}

// BUG (src/net/loop.cpp:203 retire() vs :162 accept_from() / :175 adopt()): Loop::retire() calls
// group_->release_admission() for every connection, but only accept_from() calls try_admit(); a
// connection that entered through Loop::adopt() (documented: "from another loop or a client
// connect()") is never admitted. When it closes, LoopGroup::live_ is decremented once too often:
// with no other connection it wraps to 4294967295 and every later accept is rejected as over the
// limit (with others, the limit silently grows by one per adopted connection). Fix: admit in
// adopt() (try_admit, or an `admitted_` flag on Connection set by accept_from and checked in retire
// before release_admission()).
TEST(LoopGroupTest, AdoptedConnectionDoesNotCorruptAdmission) {
  LoopOptions o;
  o.max_connections = 5;
  LoopGroup g(1, o);
  auto port = g.listen("127.0.0.1", 0, echo_factory(nullptr));
  ASSERT_TRUE(port.ok());
  g.start();
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  std::atomic<bool> adopted{false};
  g.loop(0).post([&] {
    sockaddr_storage ss{};
    ss.ss_family = AF_UNIX;
    g.loop(0).adopt(sv[0], ss, std::make_unique<EchoHandler>(GroupHooks{}));
    adopted = true;
  });
  ASSERT_TRUE(wait_until([&] { return adopted.load(); }));
  ::close(sv[1]);  // the adopted connection closes
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(g.connection_count(), 0u);
  Client c(*port);
  EXPECT_TRUE(c.echo_roundtrip("admitted?"))
      << "accepts are refused after an adopted connection closed";
  g.stop();
}

TEST(LoopGroupTest, GracefulShutdownLetsEveryConnectionSayGoodbye) {
  constexpr int kClients = 10;
  Stats stats;
  GroupHooks hooks;
  hooks.shutdown = [](Connection& c) {
    c.write("bye\n");
    c.close(CloseReason::kShutdown);
  };
  LoopGroup g(2, LoopOptions{});
  auto port = g.listen("127.0.0.1", 0, echo_factory(&stats, hooks));
  ASSERT_TRUE(port.ok());
  g.start();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(*port));
    ASSERT_TRUE(clients.back()->echo_roundtrip("x"));
  }
  const int64_t closed_before = metric("sb_connections_closed_total{reason=\"shutdown\"}");
  std::atomic<bool> returned{false};
  auto start = Clock::now();
  std::thread stopper([&] {
    g.shutdown(5000);
    returned = true;
  });
  // Each client gets the goodbye, then EOF, then closes its side (ending the lingering read).
  for (auto& c : clients) {
    bool eof = false;
    EXPECT_EQ(c->recv_to_eof(&eof), "bye\n");
    EXPECT_TRUE(eof);
    c->close();
  }
  stopper.join();
  auto took = Clock::now() - start;
  EXPECT_TRUE(returned.load());
  EXPECT_LT(took, 4s) << "shutdown should not wait for the timeout when clients close";
  EXPECT_EQ(stats.shutdowns.load(), kClients);
  EXPECT_EQ(stats.closes.load(), kClients);
  {
    std::lock_guard lock(stats.mu);
    for (CloseReason r : stats.reasons)
      EXPECT_EQ(r, CloseReason::kShutdown);
  }
  EXPECT_EQ(metric("sb_connections_closed_total{reason=\"shutdown\"}") - closed_before, kClients);
  EXPECT_EQ(g.connection_count(), 0u);
  // The listeners are closed: nobody is accepted any more.
  Client late(*port, 1000);
  if (late.connected()) {
    bool eof = false;
    late.recv_to_eof(&eof);
    EXPECT_TRUE(eof);
  } else {
    EXPECT_EQ(late.connect_errno(), ECONNREFUSED);
  }
  g.stop();  // idempotent after shutdown
}

TEST(LoopGroupTest, ShutdownWithNoConnectionsReturnsPromptly) {
  LoopGroup g(2, LoopOptions{});
  ASSERT_TRUE(g.listen("127.0.0.1", 0, echo_factory(nullptr)).ok());
  g.start();
  auto start = Clock::now();
  g.shutdown(10000);
  EXPECT_LT(Clock::now() - start, 5s);
}

// A handler that ignores on_shutdown, and a client that never closes: the group's shutdown returns
// once the timeout aborts the connection.
void shutdown_timeout_test(bool handler_ignores_shutdown, bool idle_first) {
  LoopOptions o;
  o.linger_ms = 60000;  // the lingering read must not be what ends it
  Stats stats;
  GroupHooks hooks;
  if (handler_ignores_shutdown) hooks.shutdown = [](Connection&) {};
  LoopGroup g(1, o);
  auto port = g.listen("127.0.0.1", 0, echo_factory(&stats, hooks));
  ASSERT_TRUE(port.ok());
  g.start();
  Client stubborn(*port);
  ASSERT_TRUE(stubborn.echo_roundtrip("i will never close"));
  if (idle_first) std::this_thread::sleep_for(600ms);
  constexpr uint32_t kTimeoutMs = 300;
  auto start = Clock::now();
  g.shutdown(kTimeoutMs);
  auto took = Clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(kTimeoutMs - 20)) << "returned before the timeout";
  EXPECT_LT(took, 5s);
  EXPECT_EQ(stats.shutdowns.load(), 1);
  EXPECT_EQ(stats.closes.load(), 1);
  {
    std::lock_guard lock(stats.mu);
    ASSERT_EQ(stats.reasons.size(), 1u);
    EXPECT_EQ(stats.reasons[0], CloseReason::kShutdown);
  }
  bool eof = false;
  stubborn.recv_to_eof(&eof);
  EXPECT_TRUE(eof);
  EXPECT_EQ(g.connection_count(), 0u);
}

TEST(LoopGroupTest, ShutdownTimesOutWhenHandlerIgnoresIt) {
  shutdown_timeout_test(true, false);
}

TEST(LoopGroupTest, ShutdownTimesOutWhenClientNeverCloses) {
  shutdown_timeout_test(false, false);
}

// BUG: same root cause as LoopTest.DISABLED_TimerArmedAfterIdleSpellWaitsFullDelay. After the loop
// sat idle in epoll_wait for longer than the timeout, begin_shutdown() arms shutdown_timer_ from a
// stale wheel and it fires in the same turn: shutdown(300) returns at once and aborts connections.
TEST(LoopGroupTest, ShutdownTimeoutAfterIdleSpellIsHonoured) {
  shutdown_timeout_test(true, true);
}

// The visible consequence of that bug: after an idle spell, goodbyes written in on_shutdown are
// dropped, because the (early) shutdown timer aborts the connection before its queue is flushed.
TEST(LoopGroupTest, GracefulShutdownAfterIdleSpellStillSaysGoodbye) {
  GroupHooks hooks;
  hooks.shutdown = [](Connection& c) {
    c.write("bye\n");
    c.close(CloseReason::kShutdown);
  };
  LoopGroup g(1, LoopOptions{});
  auto port = g.listen("127.0.0.1", 0, echo_factory(nullptr, hooks));
  ASSERT_TRUE(port.ok());
  g.start();
  Client c(*port);
  ASSERT_TRUE(c.echo_roundtrip("x"));
  std::this_thread::sleep_for(700ms);  // idle longer than the shutdown timeout below
  std::thread stopper([&] { g.shutdown(500); });
  bool eof = false;
  EXPECT_EQ(c.recv_to_eof(&eof), "bye\n");
  c.close();
  stopper.join();
}

TEST(LoopGroupTest, StopWithConnectedClientsJoinsAndClosesThem) {
  auto g = std::make_unique<LoopGroup>(2, LoopOptions{});
  auto port = g->listen("127.0.0.1", 0, echo_factory(nullptr));
  ASSERT_TRUE(port.ok());
  g->start();
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 8; ++i) {
    clients.push_back(std::make_unique<Client>(*port));
    ASSERT_TRUE(clients.back()->echo_roundtrip("s"));
  }
  g->stop();
  g.reset();  // frees connections; their sockets close
  for (auto& c : clients) {
    bool eof = false;
    c->recv_to_eof(&eof);
    EXPECT_TRUE(eof);
  }
}

// ============================================================================================
// EMFILE back-off, in a child process with a lowered RLIMIT_NOFILE.
// ============================================================================================

struct EmfileReport {
  int64_t cpu_us = -1;         // process CPU time over one second while the backlog is stuck
  int64_t accept_errors = -1;  // sb_accept_errors_total growth in that second
  int64_t accept_errors_total = -1;
  int64_t accepted = -1;  // sb_connections_accepted_total growth since the child started
};

// The RLIMIT_NOFILE value that leaves exactly `room` free descriptor numbers (the limit bounds
// descriptor numbers, and inherited descriptors may leave holes below the highest one).
rlim_t limit_leaving_room(int room) {
  std::vector<bool> open(65536, false);
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    int fd = std::atoi(e->d_name);
    if (fd == ::dirfd(d)) continue;  // closed below
    if (fd >= 0 && fd < 65536) open[static_cast<size_t>(fd)] = true;
  }
  ::closedir(d);  // its own descriptor is free again
  int free_seen = 0;
  for (size_t n = 0; n < open.size(); ++n) {
    if (!open[n] && ++free_seen == room) return static_cast<rlim_t>(n + 1);
  }
  return 0;
}

int64_t cpu_us() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto us = [](const timeval& tv) { return int64_t{tv.tv_sec} * 1000000 + tv.tv_usec; };
  return us(ru.ru_utime) + us(ru.ru_stime);
}

bool read_full(int fd, void* buf, size_t n, int timeout_ms) {
  auto* p = static_cast<char*>(buf);
  while (n > 0) {
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, timeout_ms) != 1) return false;
    ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

constexpr int kEmfileRoom = 3;  // connections the child can accept under its lowered limit

int emfile_child(int ctl, int res) {
  spdlog::set_level(spdlog::level::err);  // the back-off warns every 100 ms
  LoopGroup g(1, LoopOptions{});
  auto port = g.listen("127.0.0.1", 0, echo_factory(nullptr));
  if (!port.ok()) return 10;
  // Counters were copied from the parent by fork(): report growth only.
  const int64_t accepted0 = metrics::value_of(kAccepted);
  g.start();
  std::this_thread::sleep_for(50ms);  // let the loop settle (and any lazy fds be opened)
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = limit_leaving_room(kEmfileRoom);
  if (rl.rlim_cur == 0 || ::setrlimit(RLIMIT_NOFILE, &rl) != 0) return 11;
  uint16_t p = *port;
  if (::write(res, &p, sizeof(p)) != sizeof(p)) return 12;
  char cmd = 0;
  if (!read_full(ctl, &cmd, 1, 20000) || cmd != 'm') return 13;
  EmfileReport rep;
  int64_t errs0 = metrics::value_of(kAcceptErrors);
  int64_t cpu0 = cpu_us();
  std::this_thread::sleep_for(1s);
  rep.cpu_us = cpu_us() - cpu0;
  rep.accept_errors_total = metrics::value_of(kAcceptErrors);
  rep.accept_errors = rep.accept_errors_total - errs0;
  rep.accepted = metrics::value_of(kAccepted) - accepted0;
  if (::write(res, &rep, sizeof(rep)) != sizeof(rep)) return 14;
  if (!read_full(ctl, &cmd, 1, 20000) || cmd != 'r') return 15;
  rep.accept_errors_total = metrics::value_of(kAcceptErrors);
  rep.accepted = metrics::value_of(kAccepted) - accepted0;
  if (::write(res, &rep, sizeof(rep)) != sizeof(rep)) return 16;
  if (!read_full(ctl, &cmd, 1, 20000) || cmd != 'q') return 17;
  g.stop();
  return 0;
}

TEST(LoopGroupTest, EmfileBacksOffWithoutSpinningAndRecovers) {
  // A write to a socket or pipe the child already closed must fail an assertion, not kill us.
  ::signal(SIGPIPE, SIG_IGN);
  int ctl[2], res[2];
  ASSERT_EQ(::pipe(ctl), 0);
  ASSERT_EQ(::pipe(res), 0);
  std::fflush(nullptr);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(ctl[1]);
    ::close(res[0]);
    ::alarm(30);
    ::_exit(emfile_child(ctl[0], res[1]));
  }
  ::close(ctl[0]);
  ::close(res[1]);
  auto finish = [&](char cmd) { [[maybe_unused]] ssize_t w = ::write(ctl[1], &cmd, 1); };
  uint16_t port = 0;
  ASSERT_TRUE(read_full(res[0], &port, sizeof(port), 20000)) << "child did not start";

  // More clients than the child has descriptors for: the rest wait in the backlog.
  constexpr int kClients = 12;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(port, 300));
    ASSERT_TRUE(clients.back()->connected()) << i;
  }
  std::this_thread::sleep_for(300ms);  // the loop accepts what it can and hits EMFILE
  finish('m');
  EmfileReport rep;
  ASSERT_TRUE(read_full(res[0], &rep, sizeof(rep), 20000));
  std::printf("[   INFO   ] EMFILE second: cpu %lld us, %lld accept errors, %lld accepted\n",
              static_cast<long long>(rep.cpu_us), static_cast<long long>(rep.accept_errors),
              static_cast<long long>(rep.accepted));
  EXPECT_GE(rep.accept_errors, 1) << "accept() should be failing with EMFILE";
  EXPECT_LT(rep.accept_errors, 100)
      << "accept errors in one second: the listener is not backed off";
  EXPECT_LT(rep.cpu_us, 500000) << "the loop spins on a listener it cannot accept from";
  EXPECT_LE(rep.accepted, kEmfileRoom);
  // Exactly the accepted clients are served.
  int served = 0;
  for (auto& c : clients) {
    if (c->echo_roundtrip("?")) ++served;
  }
  EXPECT_GE(served, 1);
  EXPECT_LE(served, kEmfileRoom);

  // Free descriptors: close everyone; the back-off ends and new clients are accepted again.
  clients.clear();
  Client fresh(port, 10000);
  ASSERT_TRUE(fresh.connected());
  EXPECT_TRUE(fresh.echo_roundtrip("accepted again")) << "accepting never resumed after EMFILE";
  finish('r');
  EmfileReport after;
  ASSERT_TRUE(read_full(res[0], &after, sizeof(after), 20000));
  EXPECT_GT(after.accepted, rep.accepted);
  fresh.close();
  finish('q');
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << "child died with signal " << WTERMSIG(status);
  if (WIFEXITED(status)) {
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  ::close(ctl[1]);
  ::close(res[0]);
}

}  // namespace
}  // namespace sb::net
