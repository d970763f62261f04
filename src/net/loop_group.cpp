#include "net/loop_group.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"

namespace sb::net {

LoopGroup::LoopGroup(int threads, const LoopOptions& options) : options_(options) {
  if (threads < 1) threads = 1;
  for (int i = 0; i < threads; ++i)
    loops_.push_back(std::make_unique<Loop>(i, options_, this));
}

LoopGroup::~LoopGroup() {
  stop();
}

Result<int> make_listen_socket(const std::string& host, uint16_t port, int backlog) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port_s = std::to_string(port);
  if (getaddrinfo(host.empty() ? nullptr : host.c_str(), port_s.c_str(), &hints, &res) != 0 ||
      res == nullptr) {
    return Error{Errc::kInvalidArgument, "cannot resolve listen address"};
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    freeaddrinfo(res);
    return Error{Errc::kIo, "socket() failed"};
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
  int rc = ::bind(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc != 0 || ::listen(fd, backlog) != 0) {
    SB_LOG_ERROR("listen on {}:{}: {}", host, port, strerror(errno));
    ::close(fd);
    return Error{Errc::kIo, "bind/listen failed"};
  }
  return fd;
}

uint16_t local_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

Result<uint16_t> LoopGroup::listen(const std::string& host, uint16_t port,
                                   const HandlerFactory& factory) {
  // With port 0 the first socket picks the port and the others join it through SO_REUSEPORT.
  for (auto& loop : loops_) {
    auto fd = make_listen_socket(host, port);
    if (!fd) return fd.error();
    if (port == 0) port = local_port(*fd);
    loop->add_listener(*fd, factory);
  }
  return port;
}

void LoopGroup::start() {
  for (auto& loop : loops_) {
    Loop* l = loop.get();
    threads_.emplace_back([l] { l->run(); });
  }
}

void LoopGroup::shutdown(uint32_t timeout_ms) {
  for (auto& loop : loops_)
    loop->begin_shutdown(timeout_ms);
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void LoopGroup::stop() {
  for (auto& loop : loops_)
    loop->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool LoopGroup::try_admit() {
  uint32_t cur = live_.load(std::memory_order_relaxed);
  while (cur < options_.max_connections) {
    if (live_.compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed)) return true;
  }
  return false;
}

void LoopGroup::release_admission() {
  live_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace sb::net
