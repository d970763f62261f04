// LoopOptions::rx_timestamps over a real loopback TCP connection: the loop asks the kernel for
// each read's arrival time and hands it to on_data as Loop::rx_time_ns() on CLOCK_MONOTONIC.
// The load generator measures latency with it; a wrong clock or a missing time would show up
// there as latencies that are negative, zero or off by the wall clock's epoch.

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <future>
#include <memory>
#include <thread>

#include "net/connection.h"
#include "net/loop.h"

namespace sb::net {
namespace {

using namespace std::chrono_literals;

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

// Records rx_time_ns() at each on_data, answers one byte so the test knows it ran.
class StampHandler final : public ConnectionHandler {
 public:
  explicit StampHandler(std::promise<uint64_t>* seen) : seen_(seen) {}
  size_t on_data(Connection& c, std::span<uint8_t> d) override {
    if (seen_ != nullptr) {
      seen_->set_value(c.loop().rx_time_ns());
      seen_ = nullptr;
    }
    c.write(std::string_view("k"));
    return d.size();
  }

 private:
  std::promise<uint64_t>* seen_;
};

// A connected loopback pair: `accepted` goes to the loop, `client` stays with the test.
struct TcpPair {
  int accepted = -1;
  int client = -1;
  TcpPair() {
    int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (lfd < 0 || ::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::listen(lfd, 1) != 0 || ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      std::abort();
    client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) std::abort();
    accepted = ::accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ::close(lfd);
    timeval tv{10, 0};
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  TcpPair(const TcpPair&) = delete;
  TcpPair& operator=(const TcpPair&) = delete;
  ~TcpPair() { ::close(client); }
};

// Sends one byte to a loop adopting the accepted end and returns what on_data saw, with the
// monotonic times just before the send and just after the answer came back.
struct Seen {
  uint64_t rx = 0;
  uint64_t before = 0;
  uint64_t after = 0;
};

Seen exchange(const LoopOptions& options) {
  Loop loop(0, options, nullptr);
  std::thread t([&] { loop.run(); });
  TcpPair p;
  std::promise<uint64_t> seen;
  auto fut = seen.get_future();
  std::promise<void> adopted;
  loop.post([&] {
    sockaddr_storage peer{};
    loop.adopt(p.accepted, peer, std::make_unique<StampHandler>(&seen));
    adopted.set_value();
  });
  adopted.get_future().wait();
  Seen s;
  // Let the loop go idle in epoll_wait first: the arrival time must be the kernel's, which
  // comes before the loop wakes, reads and runs on_data.
  std::this_thread::sleep_for(20ms);
  s.before = monotonic_ns();
  EXPECT_EQ(::send(p.client, "x", 1, MSG_NOSIGNAL), 1);
  char answer = 0;
  EXPECT_EQ(::recv(p.client, &answer, 1, 0), 1);
  s.after = monotonic_ns();
  EXPECT_EQ(fut.wait_for(10s), std::future_status::ready);
  s.rx = fut.get();
  loop.stop();
  t.join();
  return s;
}

TEST(RxTimestampTest, OnDataSeesTheKernelsArrivalTimeOnTheMonotonicClock) {
  LoopOptions o;
  o.rx_timestamps = true;
  const Seen s = exchange(o);
  ASSERT_NE(s.rx, 0u) << "no receive time from the kernel";
  // Allow 1 ms for the realtime→monotonic conversion (two clock reads, a possible slew).
  EXPECT_GE(s.rx + 1'000'000, s.before);
  EXPECT_LE(s.rx, s.after + 1'000'000);
}

TEST(RxTimestampTest, OffByDefault) {
  const Seen s = exchange(LoopOptions{});
  EXPECT_EQ(s.rx, 0u);
  EXPECT_LE(s.before, s.after);
}

}  // namespace
}  // namespace sb::net
