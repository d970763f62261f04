#include "lb/health_checker.h"

#include <charconv>

#include "common/log.h"
#include "common/metrics.h"
#include "lb/proxy.h"
#include "lb/response_parser.h"

namespace sb::lb {
namespace {

constexpr size_t kMaxProbeBytes = 16384;

metrics::Counter& check_failures() {
  static metrics::Counter c("sb_lb_health_check_failures_total", "Failed backend health checks");
  return c;
}

// One probe: sends its request, collects the answer (bounded), reports once.
class Probe final : public net::ConnectionHandler {
 public:
  Probe(HealthChecker& hc, size_t backend, bool handshake)
      : hc_(hc), backend_(backend), handshake_(handshake) {}

  size_t on_data(net::Connection& c, std::span<uint8_t> data) override {
    buf_.append(reinterpret_cast<const char*>(data.data()), data.size());
    if (buf_.size() > kMaxProbeBytes) {
      c.abort(net::CloseReason::kProtocolError);
      return data.size();
    }
    static thread_local ResponseHead head;
    ResponseParser parser;
    if (parser.parse(buf_, head).status != ResponseStatus::kComplete) return data.size();
    const uint64_t body = head.content_length.value_or(0);
    if (head.content_length && buf_.size() >= head.head_size + body) {
      finish(head.status == 200);
      c.close();
    }
    return data.size();
  }

  void on_close(net::Connection& /*c*/, net::CloseReason /*reason*/) override {
    if (reported_) return;
    // Connection: close without a length: the answer is whatever arrived.
    static thread_local ResponseHead head;
    ResponseParser parser;
    finish(parser.parse(buf_, head).status == ResponseStatus::kComplete && head.status == 200);
  }

 private:
  void finish(bool ok) {
    reported_ = true;
    hc_.on_result(backend_, handshake_, ok, ok ? node_id_from_response(buf_) : -1);
  }

  HealthChecker& hc_;
  size_t backend_;
  bool handshake_;
  bool reported_ = false;
  std::string buf_;
};

}  // namespace

int node_id_from_response(std::string_view bytes) {
  static thread_local ResponseHead head;
  ResponseParser parser;
  if (parser.parse(bytes, head).status != ResponseStatus::kComplete) return -1;
  if (const auto h = head.header("x-switchboard-node")) {
    int id = -1;
    auto [p, ec] = std::from_chars(h->data(), h->data() + h->size(), id);
    if (ec == std::errc() && p == h->data() + h->size() && id >= 0 && id <= 65535) return id;
  }
  const std::string_view body = bytes.substr(head.head_size);
  const size_t at = body.find("\"sid\":\"");
  if (at == std::string_view::npos) return -1;
  const std::string_view sid = body.substr(at + 7, 20);
  const auto node = sid_node(sid);
  return node ? static_cast<int>(*node) : -1;
}

HealthChecker::HealthChecker(net::Loop& loop, LbShared& shared) : loop_(loop), sh_(shared) {
  for (size_t i = 0; i < sh_.pool.size(); ++i)
    slots_.push_back(std::make_unique<Slot>());
}

HealthChecker::~HealthChecker() = default;

void HealthChecker::start() {
  for (size_t i = 0; i < slots_.size(); ++i)
    probe(i, false);
}

void HealthChecker::stop() {
  stopped_ = true;
  for (auto& s : slots_)
    s->timer.cancel();
}

void HealthChecker::schedule(size_t i, uint32_t delay_ms) {
  if (stopped_) return;
  loop_.timers().arm(slots_[i]->timer, delay_ms, [this, i] { probe(i, false); });
}

void HealthChecker::probe(size_t i, bool handshake) {
  Slot& s = *slots_[i];
  if (stopped_ || s.in_flight) return;
  Backend& b = sh_.pool.at(i);
  auto fd = connect_nonblocking(b.addr, b.addr_len);
  if (!fd) {
    on_result(i, handshake, false, -1);
    return;
  }
  s.in_flight = true;
  net::Connection* c = loop_.adopt(*fd, b.addr, std::make_unique<Probe>(*this, i, handshake));
  const LbOptions& o = sh_.options;
  std::string req = "GET ";
  req += handshake ? o.probe_path + "?EIO=4&transport=polling" : o.health_path;
  req += " HTTP/1.1\r\nHost: " + b.name +
         "\r\nUser-Agent: switchboard-lb\r\nConnection: close\r\n\r\n";
  c->write(req);
  loop_.timers().arm(c->timer(), o.health_timeout_ms,
                     [c] { c->abort(net::CloseReason::kTimeout); });
}

void HealthChecker::on_result(size_t i, bool handshake, bool ok, int node_id) {
  Slot& s = *slots_[i];
  s.in_flight = false;
  Backend& b = sh_.pool.at(i);
  const LbOptions& o = sh_.options;
  if (handshake) {
    // Learning the node id is not a health verdict; retried with the next check if it failed.
    if (node_id >= 0) {
      b.node_id.store(node_id);
      SB_LOG_INFO("lb: backend {} is node {}", b.name, node_id);
    }
    schedule(i, o.health_interval_ms);
    return;
  }
  if (ok) {
    s.fail_streak = 0;
    ++s.ok_streak;
    if (node_id >= 0 && b.node_id.load() != node_id) {
      b.node_id.store(node_id);
      SB_LOG_INFO("lb: backend {} is node {}", b.name, node_id);
    }
    if (!b.healthy.load() && s.ok_streak >= o.rise) {
      b.healthy.store(true);
      SB_LOG_INFO("lb: backend {} is up", b.name);
    }
  } else {
    check_failures().inc();
    s.ok_streak = 0;
    ++s.fail_streak;
    if (b.healthy.load() && s.fail_streak >= o.fall) {
      b.healthy.store(false);
      b.node_id.store(-1);
      SB_LOG_WARN("lb: backend {} is down", b.name);
    }
  }
  if (ok && b.node_id.load() < 0 && !o.probe_path.empty()) {
    probe(i, true);
    return;
  }
  schedule(i, o.health_interval_ms);
}

}  // namespace sb::lb
