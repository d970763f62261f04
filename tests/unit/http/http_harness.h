#pragma once
// End-to-end harness for the HTTP session: a real net::Loop on its own thread, one connection
// adopted from a socketpair, and a blocking client on the other end.

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "http/server.h"
#include "net/loop.h"

namespace sb::http::testing {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "<none>" : it->second;
  }
};

class Harness {
 public:
  explicit Harness(const HttpServer& server)
      : server_(server), loop_(0, net::LoopOptions{}, nullptr) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) std::abort();
    ::fcntl(sv[0], F_SETFL, ::fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    client_ = sv[1];
    sockaddr_storage peer{};
    peer.ss_family = AF_UNIX;
    loop_.post([this, fd = sv[0], peer] {
      net::Connection* c = loop_.adopt(fd, peer, nullptr);
      c->set_handler(server_.make_session(*c));
    });
    thread_ = std::thread([this] { loop_.run(); });
  }
  ~Harness() {
    loop_.stop();
    thread_.join();
    if (client_ >= 0) ::close(client_);
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  void send(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::send(client_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      s.remove_prefix(static_cast<size_t>(n));
    }
  }
  void shutdown_write() { ::shutdown(client_, SHUT_WR); }
  void close_client() {
    ::close(client_);
    client_ = -1;
  }

  /// Runs f on the loop thread and waits for it.
  template <typename F>
  void on_loop(F f) {
    std::promise<void> done;
    loop_.post([&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  /// Reads one response (nullopt on EOF/timeout). HEAD answers carry no body.
  std::optional<ClientResponse> read_response(bool head_only = false, int timeout_ms = 3000) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(timeout_ms)) return std::nullopt;
    }
    ClientResponse r;
    const std::string head = buf_.substr(0, end + 2);
    r.status = std::stoi(head.substr(9, 3));
    size_t pos = head.find("\r\n") + 2;
    while (pos < head.size()) {
      const size_t eol = head.find("\r\n", pos);
      const std::string line = head.substr(pos, eol - pos);
      const size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = line.substr(colon + 2);
      pos = eol + 2;
    }
    buf_.erase(0, end + 4);
    size_t length = 0;
    if (!head_only && r.headers.count("content-length"))
      length = std::stoul(r.headers["content-length"]);
    while (buf_.size() < length) {
      if (!fill(timeout_ms)) return std::nullopt;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

  /// Reads raw bytes until `n` are available (for upgraded protocols).
  std::string read_raw(size_t n, int timeout_ms = 3000) {
    while (buf_.size() < n) {
      if (!fill(timeout_ms)) break;
    }
    std::string out = buf_.substr(0, n);
    buf_.erase(0, out.size());
    return out;
  }

  /// True if the server closed the connection (EOF) within the timeout with nothing else to read.
  bool closed_by_server(int timeout_ms = 3000) {
    while (fill(timeout_ms)) {
    }
    return eof_ && buf_.empty();
  }
  /// True if nothing arrives within `ms`.
  bool silent_for(int ms) { return !fill(ms) && !eof_ && buf_.empty(); }

 private:
  bool fill(int timeout_ms) {
    if (eof_) return false;
    pollfd p{client_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char tmp[65536];
    const ssize_t n = ::recv(client_, tmp, sizeof(tmp), 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  const HttpServer& server_;
  net::Loop loop_;
  std::thread thread_;
  int client_ = -1;
  std::string buf_;
  bool eof_ = false;
};

}  // namespace sb::http::testing
