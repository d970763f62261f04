// LoopOptions::rx_timestamps over a real loopback TCP connection: the loop asks the kernel for
// each read's arrival time and hands it to on_data as Loop::rx_time_ns() on CLOCK_MONOTONIC.
// The load generator measures latency with it, so the test tells the kernel's time from the
// time of the read: the loop is held busy while the byte arrives, and the test checks that the
// time on_data sees is the arrival (before the hold ended), not the read (after it).

#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <future>
#include <memory>
#include <string_view>
#include <thread>

#include "net/connection.h"
#include "net/loop.h"

namespace sb::net {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kMs = 1'000'000;

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// What on_data saw: Loop::rx_time_ns() and the clock when it ran.
struct Seen {
  uint64_t rx = 0;
  uint64_t read_at = 0;
};

class StampHandler final : public ConnectionHandler {
 public:
  explicit StampHandler(std::promise<Seen>* seen) : seen_(seen) {}
  size_t on_data(Connection& c, std::span<uint8_t> d) override {
    if (seen_ != nullptr) {
      seen_->set_value(Seen{c.loop().rx_time_ns(), monotonic_ns()});
      seen_ = nullptr;
    }
    return d.size();
  }

 private:
  std::promise<Seen>* seen_;
};

// A connected loopback pair: `accepted` goes to the loop, `client` stays with the test.
struct TcpPair {
  int accepted = -1;
  int client = -1;
  bool ok = false;
  TcpPair() {
    const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::listen(lfd, 1) != 0 || ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (lfd >= 0) ::close(lfd);
      return;
    }
    client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (client >= 0 && ::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0)
      accepted = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ::close(lfd);
    ok = accepted >= 0;
  }
  TcpPair(const TcpPair&) = delete;
  TcpPair& operator=(const TcpPair&) = delete;
  ~TcpPair() {
    if (client >= 0) ::close(client);
    if (!ok && accepted >= 0) ::close(accepted);  // else the loop owns it
  }
};

// The kernel switches receive timestamps on for the whole machine when the first socket asks,
// possibly a moment later (a deferred static-key flip): until then segments carry no time. A
// socket that asks, kept open, holds the switch on; exchanges are repeated until times appear.
class RxTimestampTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keeper_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ASSERT_EQ(setsockopt(keeper_, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)), 0);
  }
  void TearDown() override { ::close(keeper_); }

  // One byte to a loop that adopted the accepted end. With `hold`, the loop is kept busy from
  // before the send until the byte is in the socket's receive queue and `hold` more has passed.
  // `queued` is when the test saw it queued. Returns false when on_data did not run.
  static bool exchange(const LoopOptions& options, std::chrono::milliseconds hold, Seen& seen,
                       uint64_t& queued) {
    Loop loop(0, options, nullptr);
    std::thread t([&] { loop.run(); });
    // Declared out here: they must outlive anything the loop thread could still run.
    std::promise<Seen> seen_p;
    std::promise<void> release;
    TcpPair p;
    bool ran = false;
    if (p.ok) {
      auto seen_f = seen_p.get_future();
      std::promise<void> adopted;
      loop.post([&] {
        loop.adopt(p.accepted, sockaddr_storage{}, std::make_unique<StampHandler>(&seen_p));
        adopted.set_value();
      });
      adopted.get_future().wait();
      std::shared_future<void> released = release.get_future().share();
      std::promise<void> holding;
      loop.post([&holding, released] {
        holding.set_value();
        released.wait();  // the loop cannot read until the test lets go
      });
      holding.get_future().wait();
      ::send(p.client, "x", 1, MSG_NOSIGNAL);
      // Wait (bounded) until the byte is in the accepted socket's receive queue.
      int avail = 0;
      for (int i = 0; i < 10000 && avail < 1; ++i) {
        if (::ioctl(p.accepted, FIONREAD, &avail) != 0) break;
        if (avail < 1) std::this_thread::sleep_for(100us);
      }
      queued = monotonic_ns();
      std::this_thread::sleep_for(hold);
      release.set_value();
      if (seen_f.wait_for(10s) == std::future_status::ready) {
        seen = seen_f.get();
        ran = true;
      }
    }
    loop.stop();
    t.join();
    return ran;
  }

  int keeper_ = -1;
};

TEST_F(RxTimestampTest, OnDataSeesTheArrivalTimeNotTheReadTime) {
  LoopOptions o;
  o.rx_timestamps = true;
  Seen seen;
  uint64_t queued = 0;
  // Bounded retries while the kernel's switch comes on (normally the first exchange has a time).
  for (int attempt = 0; attempt < 50; ++attempt) {
    ASSERT_TRUE(exchange(o, 30ms, seen, queued)) << "on_data did not run";
    if (seen.rx != 0) break;
  }
  ASSERT_NE(seen.rx, 0u) << "no receive time from the kernel in 50 exchanges";
  // The read came after the 30 ms hold; the arrival before the test saw the byte queued. A
  // read-time stamp would be ≥ queued + 30 ms. 1 ms of slack for the realtime→monotonic
  // conversion (two clock reads).
  EXPECT_GE(seen.read_at, queued + 30 * kMs);
  EXPECT_LE(seen.rx, queued + kMs) << "the time of the read, not of the arrival";
  EXPECT_GT(seen.rx + 10'000 * kMs, queued) << "not on CLOCK_MONOTONIC";
}

TEST_F(RxTimestampTest, OffByDefault) {
  Seen seen;
  uint64_t queued = 0;
  ASSERT_TRUE(exchange(LoopOptions{}, 0ms, seen, queued));
  EXPECT_EQ(seen.rx, 0u);
}

}  // namespace
}  // namespace sb::net
