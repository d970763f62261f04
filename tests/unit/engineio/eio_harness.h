#pragma once
// Engine.IO server end to end without a listener: a LoopGroup of two running loops, an
// HttpServer with the Engine.IO route, and blocking clients whose connections the test places
// on a chosen loop (socketpair + Loop::adopt) — so "the request arrived on the other loop" is
// decided by the test, not by the kernel.

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engineio/server.h"
#include "http/server.h"
#include "net/loop_group.h"

namespace sb::engineio::testing {

/// Records what the application sees; echoes messages like the echo app.
class RecordingHandler final : public Handler {
 public:
  void on_open(Socket& s) override {
    std::lock_guard lock(mu);
    opened.emplace_back(s.sid());
    open_loops.push_back(s.loop().index());
  }
  void on_message(Socket& s, std::string_view text) override {
    {
      std::lock_guard lock(mu);
      messages.emplace_back(text);
    }
    if (text == "__close") {
      s.close();
    } else {
      s.send_text(text);
    }
  }
  void on_binary(Socket& s, std::span<const uint8_t> data) override { s.send_binary(data); }
  void on_close(Socket& s, std::string_view reason) override {
    std::lock_guard lock(mu);
    closed.emplace_back(std::string(s.sid()) + " " + std::string(reason));
  }
  std::vector<std::string> closed_snapshot() {
    std::lock_guard lock(mu);
    return closed;
  }

  std::mutex mu;
  std::vector<std::string> opened;
  std::vector<int> open_loops;
  std::vector<std::string> messages;
  std::vector<std::string> closed;
};

struct HttpReply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& n) const {
    auto it = headers.find(n);
    return it == headers.end() ? "<none>" : it->second;
  }
};

/// A blocking client on one end of a socketpair whose other end is served by loop `loop`.
class Client {
 public:
  Client(net::LoopGroup& loops, const http::HttpServer& server, int loop) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) std::abort();
    ::fcntl(sv[0], F_SETFL, ::fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    fd_ = sv[1];
    sockaddr_storage peer{};
    peer.ss_family = AF_UNIX;
    net::Loop& l = loops.loop(loop);
    l.post([&l, &server, fd = sv[0], peer] {
      net::Connection* c = l.adopt(fd, peer, nullptr);
      c->set_handler(server.make_session(*c));
    });
  }
  ~Client() {
    if (fd_ >= 0) ::close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      s.remove_prefix(static_cast<size_t>(n));
    }
  }
  void get(const std::string& path, const std::string& extra = "") {
    send("GET " + path + " HTTP/1.1\r\nHost: t\r\n" + extra + "\r\n");
  }
  void post(const std::string& path, const std::string& body) {
    send("POST " + path + " HTTP/1.1\r\nHost: t\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body);
  }
  void close() {
    ::close(fd_);
    fd_ = -1;
  }

  std::optional<HttpReply> read_reply(int timeout_ms = 3000) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill(timeout_ms)) return std::nullopt;
    }
    HttpReply r;
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
    if (r.headers.count("content-length")) length = std::stoul(r.headers["content-length"]);
    while (buf_.size() < length) {
      if (!fill(timeout_ms)) return std::nullopt;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }
  /// Raw bytes (after an upgrade): waits until `n` are there.
  std::string read_raw(size_t n, int timeout_ms = 3000) {
    while (buf_.size() < n) {
      if (!fill(timeout_ms)) break;
    }
    std::string out = buf_.substr(0, std::min(n, buf_.size()));
    buf_.erase(0, out.size());
    return out;
  }
  bool silent_for(int ms) { return !fill(ms) && buf_.empty(); }

 private:
  bool fill(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char tmp[65536];
    const ssize_t n = ::recv(fd_, tmp, sizeof(tmp), 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string buf_;
};

struct Node {
  explicit Node(Options o = {}) : eio(std::move(o), handler), loops(2, net::LoopOptions{}) {
    eio.attach(http.router(), loops, http.cors());
    loops.start();
  }
  ~Node() { loops.stop(); }

  /// Runs f on loop `i` and waits for it.
  template <typename F>
  void on_loop(int i, F f) {
    std::promise<void> done;
    loops.loop(i).post([&] {
      f();
      done.set_value();
    });
    done.get_future().wait();
  }

  // Destroyed in reverse: the loops (and the connections' last callbacks) before the server.
  RecordingHandler handler;
  http::HttpServer http;
  Server eio;
  net::LoopGroup loops;
};

}  // namespace sb::engineio::testing
