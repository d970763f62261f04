#pragma once
// Hand-driven loops and links for testing the Socket.IO server without sockets or threads:
// "loops" are task queues and timer wheels that the test runs to quiescence.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "socketio/client.h"
#include "socketio/runtime.h"
#include "socketio/server.h"

namespace sb::socketio::testing {

class FakeLoops final : public Loops {
 public:
  explicit FakeLoops(int n) {
    for (int i = 0; i < n; ++i)
      loops_.push_back(std::make_unique<L>());
  }
  int size() const override { return static_cast<int>(loops_.size()); }
  void post(int loop, Task t) override {
    loops_[static_cast<size_t>(loop)]->posted.push_back(std::move(t));
  }
  void defer(int loop, Task t) override {
    loops_[static_cast<size_t>(loop)]->deferred.push_back(std::move(t));
  }
  net::TimerWheel& timers(int loop) override { return loops_[static_cast<size_t>(loop)]->wheel; }

  /// Runs posted and deferred tasks on every loop until none is left.
  void run() {
    for (bool busy = true; busy;) {
      busy = false;
      for (int i = 0; i < size(); ++i) {
        L& l = *loops_[static_cast<size_t>(i)];
        LoopScope scope(i);
        while (!l.posted.empty() || !l.deferred.empty()) {
          busy = true;
          auto posted = std::move(l.posted);
          l.posted.clear();
          for (auto& t : posted)
            t();
          auto deferred = std::move(l.deferred);
          l.deferred.clear();
          for (auto& t : deferred)
            t();
        }
      }
    }
  }
  /// Moves the clock of every loop forward, firing timers, then runs.
  void advance(uint64_t ms) {
    now_ += ms;
    for (int i = 0; i < size(); ++i) {
      LoopScope scope(i);
      loops_[static_cast<size_t>(i)]->wheel.advance(now_);
    }
    run();
  }
  size_t pending(int loop) const { return loops_[static_cast<size_t>(loop)]->posted.size(); }

 private:
  struct L {
    std::vector<Task> posted;
    std::vector<Task> deferred;
    net::TimerWheel wheel{0};
  };
  std::vector<std::unique_ptr<L>> loops_;
  uint64_t now_ = 0;
};

/// Records what the server sends. Texts are Socket.IO packets; shared packets are recorded in
/// their polling form minus the Engine.IO `4` (text) or as "b<base64>" (binary).
class FakeLink final : public Link {
 public:
  explicit FakeLink(int loop) : loop_(loop) {}
  int loop() const override { return loop_; }
  bool is_open() const override { return open_; }
  void send_text(std::string_view packet) override { out.emplace_back(packet); }
  void send_binary(std::span<const uint8_t> data) override {
    out.push_back("<bin:" + std::string(data.begin(), data.end()) + ">");
  }
  void send_shared(const engineio::LocalPacket& p) override {
    ++shared_count;
    std::string_view v = p.polling.view();
    if (!p.binary && !v.empty()) v.remove_prefix(1);
    out.emplace_back(v);
  }
  void close() override { open_ = false; }
  bool writable() const override { return writable_; }

  std::vector<std::string> out;
  size_t shared_count = 0;
  /// What writable() answers (a transport that cannot take a volatile packet now: false).
  bool writable_ = true;

 private:
  int loop_;
  bool open_ = true;
};

/// A client: its link (owned by the server's Client) and the Client itself.
struct TestClient {
  Client* client = nullptr;
  FakeLink* link = nullptr;
  const std::vector<std::string>& out() const { return link->out; }
  std::string last() const { return link->out.empty() ? std::string() : link->out.back(); }
};

/// Hands `text` to the client as if its Engine.IO session received it, on the client's loop.
inline void feed(const TestClient& c, std::string_view text) {
  LoopScope scope(c.client->loop());
  c.client->on_text(text);
}

inline TestClient connect_client(Server& io, int loop) {
  auto link = std::make_unique<FakeLink>(loop);
  FakeLink* raw = link.get();
  Client& c = io.open(std::move(link));
  return TestClient{&c, raw};
}

}  // namespace sb::socketio::testing
