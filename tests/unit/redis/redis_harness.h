#pragma once
// Test support for the Redis client: a real redis-server process on a free loopback port, a
// net::Loop on its own thread, and a small blocking Redis caller for the test thread's side
// (publishing, checking what the client wrote). Every wait is bounded by a generous timeout and
// polls a condition; nothing sleeps a fixed time to "let things happen".

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <future>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "net/loop.h"
#include "redis/command.h"
#include "redis/reply_reader.h"

extern char** environ;  // NOLINT(readability-identifier-naming): POSIX name

namespace sb::redis::testing {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr auto kWait = 15s;  // upper bound for anything that should happen "soon"

template <typename Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout = kWait) {
  auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

inline std::string find_redis_server() {
  for (const char* p : {"/usr/bin/redis-server", "/usr/local/bin/redis-server"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return {};
}

/// A port nobody listens on right now (bound and released; good enough on a test machine).
inline uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// A blocking connection for the test thread, with receive/send timeouts.
class BlockingRedis {
 public:
  explicit BlockingRedis(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~BlockingRedis() {
    if (fd_ >= 0) ::close(fd_);
  }
  BlockingRedis(const BlockingRedis&) = delete;
  BlockingRedis& operator=(const BlockingRedis&) = delete;
  bool ok() const { return fd_ >= 0; }

  /// Sends one command and returns its reply (an error Reply "TEST io" on failure).
  Reply call(std::initializer_list<std::string_view> argv) {
    return call(std::vector<std::string_view>(argv));
  }
  Reply call(const std::vector<std::string_view>& argv) {
    if (fd_ < 0) return Reply::error("TEST not connected");
    std::string cmd = format_command(argv);
    size_t off = 0;
    while (off < cmd.size()) {
      ssize_t n = ::send(fd_, cmd.data() + off, cmd.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return Reply::error("TEST io");
      off += static_cast<size_t>(n);
    }
    return read_reply();
  }
  Reply read_reply() {
    char buf[65536];
    for (;;) {
      auto next = reader_.next();
      if (!next) return Reply::error("TEST protocol");
      if (next->has_value()) return std::move(**next);
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) return Reply::error("TEST io");
      if (!reader_.feed(std::string_view(buf, static_cast<size_t>(n)))) {
        return Reply::error("TEST too large");
      }
    }
  }

 private:
  int fd_ = -1;
  ReplyReader reader_;
};

/// A redis-server child process, killed by PID.
class RedisServer {
 public:
  RedisServer() = default;
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  ~RedisServer() { kill(SIGTERM); }

  static bool available() { return !find_redis_server().empty(); }

  /// Starts on `port` (0: a free one) and waits until it answers. Extra args are appended.
  bool start(std::vector<std::string> extra = {}, uint16_t port = 0) {
    port_ = port != 0 ? port : free_port();
    extra_ = std::move(extra);
    return restart();
  }

  /// Starts again with the same port and arguments (after kill()).
  bool restart() {
    std::string bin = find_redis_server();
    std::vector<std::string> args = {bin,      "--port",       std::to_string(port_),
                                     "--bind", "127.0.0.1",    "--save",
                                     "",       "--appendonly", "no",
                                     "--dir",  "/tmp",         "--daemonize",
                                     "no",     "--loglevel",   "warning"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return false;
    pid_ = pid;
    // Ready when it answers anything (a NOAUTH error counts: it is listening and parsing).
    return wait_until([&] {
      BlockingRedis probe(port_);
      if (!probe.ok()) return false;
      Reply r = probe.call({"PING"});
      return r.is("PONG") || (r.is_error() && r.str.rfind("TEST", 0) != 0);
    });
  }

  /// Stops the server (SIGKILL: mid-stream, no goodbye) and reaps it.
  void kill(int sig = SIGKILL) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  uint16_t port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::vector<std::string> extra_;
};

/// A net::Loop running on its own thread; state of loop objects is only touched through
/// run_sync (the future orders the accesses for the test thread).
class LoopRunner {
 public:
  explicit LoopRunner(const net::LoopOptions& o = net::LoopOptions{}) : loop(0, o, nullptr) {
    thread_ = std::thread([this] { loop.run(); });
  }
  LoopRunner(const LoopRunner&) = delete;
  LoopRunner& operator=(const LoopRunner&) = delete;
  ~LoopRunner() { stop(); }
  void stop() {
    if (thread_.joinable()) {
      loop.stop();
      thread_.join();
    }
  }
  /// Waits (bounded) for the loop thread to return from run() by itself.
  bool join_within(std::chrono::milliseconds timeout) {
    auto f = std::async(std::launch::async, [this] { thread_.join(); });
    if (f.wait_for(timeout) != std::future_status::ready) {
      loop.stop();
      f.wait();
      return false;
    }
    return true;
  }

  template <typename F>
  auto run_sync(F&& fn) -> decltype(fn()) {
    using R = decltype(fn());
    std::promise<R> done;
    auto f = done.get_future();
    loop.post([&fn, &done] {
      if constexpr (std::is_void_v<R>) {
        fn();
        done.set_value();
      } else {
        done.set_value(fn());
      }
    });
    if (f.wait_for(kWait) != std::future_status::ready) {
      ADD_FAILURE() << "loop did not run a posted task within the time bound";
      std::abort();  // fn/done are on this stack: cannot safely continue
    }
    return f.get();
  }

  net::Loop loop;

 private:
  std::thread thread_;
};

}  // namespace sb::redis::testing
