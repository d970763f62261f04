#include "bench/polling_client.h"

#include <algorithm>

#include "bench/polling_codec.h"
#include "bench/sio_packet.h"
#include "bench/tcp_connect.h"
#include "net/loop.h"

namespace sb::bench {
namespace {

// Close the POST connection after this long without a POST: below Node.js's 5 s keep-alive
// timeout, so we never send a POST on a connection the server is closing.
constexpr uint64_t kDataIdleCloseMs = 4000;
// Slack over the server's pingInterval + pingTimeout before a pending GET counts as lost.
constexpr uint64_t kPollSlackMs = 5000;

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string_view as_text(std::span<const uint8_t> p) {
  return {reinterpret_cast<const char*>(p.data()), p.size()};
}

std::string_view close_why(net::CloseReason reason, bool open) {
  switch (reason) {
    case net::CloseReason::kPeerClosed:
      return open ? "closed by the server" : "refused or reset";
    case net::CloseReason::kIoError:
      return open ? "connection reset" : "connect failed";
    case net::CloseReason::kOutboundOverflow:
      return "client outbound queue overflow";
    case net::CloseReason::kShutdown:
      return "shutdown";
    case net::CloseReason::kLocal:
      return "closed locally";
    default:
      return net::close_reason_name(reason);
  }
}

}  // namespace

// One TCP connection of a client. Parses the HTTP responses that arrive on it and passes them
// up; tolerates the client detaching it (a data leg being dropped), after which it only closes.
class PollingClient::Leg final : public net::ConnectionHandler {
 public:
  Leg(PollingClient* client, Role role) : client_(client), role_(role) {}
  void own(std::unique_ptr<PollingClient> c) { owned_ = std::move(c); }
  void detach() { client_ = nullptr; }

  size_t on_data(net::Connection& c, std::span<uint8_t> data) override {
    size_t used = 0;
    // Bounded by the data: every complete response consumes at least its head.
    while (client_ != nullptr && c.open() && used < data.size()) {
      const std::string_view text = as_text(data.subspan(used));
      const HttpResponse r = parse_http_response(text, kMaxResponseBody);
      if (r.status == HttpParseStatus::kNeedMore) break;
      if (r.status == HttpParseStatus::kError) {
        client_->fail(r.error);
        break;
      }
      used += r.size;
      client_->on_response(role_, r.code, r.body, r.close);
    }
    if (client_ == nullptr && c.open()) c.close();
    return used;
  }

  void on_shutdown(net::Connection& c) override {
    if (client_ != nullptr) {
      client_->on_leg_shutdown();
    } else if (c.open()) {
      c.abort(net::CloseReason::kShutdown);
    }
  }

  void on_close(net::Connection& /*c*/, net::CloseReason reason) override {
    if (client_ != nullptr) client_->on_leg_closed(role_, reason);
  }

 private:
  PollingClient* client_;
  Role role_;
  std::unique_ptr<PollingClient> owned_;  // the poll leg owns the client
};

PollingClient::PollingClient(const PollingClientOptions& options, ClientEvents& events, uint32_t id,
                             net::Loop& loop, const sockaddr_in& source)
    : options_(options), events_(events), loop_(loop), source_(source), id_(id) {}

PollingClient::~PollingClient() = default;

Result<PollingClient*> PollingClient::connect(net::Loop& loop, const sockaddr_in& source,
                                              const PollingClientOptions& options,
                                              ClientEvents& events, uint32_t id) {
  auto client = std::make_unique<PollingClient>(options, events, id, loop, source);
  PollingClient* raw = client.get();
  auto leg = std::make_unique<Leg>(raw, Role::kPoll);
  leg->own(std::move(client));
  auto c = open_connection(loop, source, options.target, std::move(leg));
  if (!c) return c.error();  // the leg, and the client with it, are gone
  raw->poll_conn_ = c.value();
  std::string req;
  append_poll_request(req, options.path, options.host_header);
  raw->poll_conn_->write(req);
  raw->poll_pending_ = true;
  loop.timers().arm(raw->handshake_timer_, options.handshake_timeout_ms, [raw] {
    if (!raw->open_) raw->fail("handshake timeout");
  });
  return raw;
}

void PollingClient::send_message(std::span<const uint8_t> payload, bool /*binary*/) {
  if (!open_ || failing()) return;
  // One scratch string per loop thread: emits are built and queued one at a time.
  thread_local std::string out;
  out.clear();
  append_emit(out, options_.nsp, options_.event, std::nullopt, as_text(payload),
              options_.extra_arg);
  queue_packet(out);
}

void PollingClient::on_response(Role role, uint16_t code, std::string_view body,
                                bool server_closes) {
  if (failing()) return;
  if (role == Role::kData) {
    if (!post_in_flight_) return fail("response without a POST");
    post_in_flight_ = false;
    if (code != 200) return fail("POST refused (HTTP error)");
    if (server_closes) {
      drop_data_leg();
    } else if (data_conn_ != nullptr) {
      data_conn_->timer().cancel();
      data_conn_->loop().timers().arm(data_conn_->timer(), kDataIdleCloseMs, [this] {
        if (!post_in_flight_) drop_data_leg();
      });
    }
    flush_outbox();
    return;
  }
  if (!poll_pending_) return fail("response without a GET");
  poll_pending_ = false;
  if (poll_conn_ != nullptr) poll_conn_->timer().cancel();
  if (code != 200) return fail(eio_open_ ? "poll refused (HTTP error)" : "handshake refused");
  if (!eio_open_) {
    on_handshake(body);
  } else {
    PayloadReader reader(body);
    std::string_view packet;
    while (!failing() && reader.next(packet))
      on_packet(packet);
  }
  if (failing()) return;
  if (server_closes) return fail("server closed the poll connection");
  send_poll();
}

void PollingClient::on_handshake(std::string_view body) {
  PayloadReader reader(body);
  std::string_view packet;
  if (!reader.next(packet) || packet.empty() || packet[0] != '0') {
    return fail("no Engine.IO open packet");
  }
  const auto open = parse_open_packet(packet.substr(1));
  if (!open) return fail("bad Engine.IO open packet");
  eio_open_ = true;
  poll_path_ = options_.path;
  poll_path_ += "&sid=";
  poll_path_ += open->sid;
  poll_limit_ms_ = open->ping_interval_ms + open->ping_timeout_ms + kPollSlackMs;
  queue_packet(options_.nsp == "/" ? std::string("40") : "40" + options_.nsp + ",");
  while (!failing() && reader.next(packet))
    on_packet(packet);
}

// The same dispatch as SioClient::on_message, minus the WebSocket: the Socket.IO packet is one
// entry of a polling payload instead of one text frame.
void PollingClient::on_packet(std::string_view packet) {
  const SioFrame f = parse_server_frame(packet);
  switch (f.kind) {
    case SioKind::kEioOpen:
      return fail("second Engine.IO open packet");
    case SioKind::kEioPing: {
      std::string pong = "3";
      pong += f.ping_data;
      return queue_packet(pong);
    }
    case SioKind::kConnect:
      if (open_ || f.nsp != options_.nsp) return;
      open_ = true;
      handshake_timer_.cancel();
      return events_.on_open(*this);
    case SioKind::kConnectError:
      return fail("connect_error from the server");
    case SioKind::kEioClose:
    case SioKind::kDisconnect:
      return fail("disconnected by the server");
    case SioKind::kEvent:
      if (!open_) return;
      if (f.event == options_.receive_event && f.has_first_arg) {
        return events_.on_message(*this, as_bytes(f.first_arg));
      }
      return events_.on_message(*this, {});  // counted as foreign
    case SioKind::kAck:
      if (open_) events_.on_message(*this, as_bytes(f.first_arg));
      return;
    case SioKind::kEioPong:
    case SioKind::kEioNoop:
      return;
    case SioKind::kBinary:
    case SioKind::kMalformed:
      if (open_) events_.on_message(*this, {});
      return;
  }
}

void PollingClient::send_poll() {
  if (poll_conn_ == nullptr || !poll_conn_->open() || poll_pending_) return;
  thread_local std::string req;
  req.clear();
  append_poll_request(req, poll_path_, options_.host_header);
  poll_conn_->write(req);
  poll_pending_ = true;
  loop_.timers().arm(poll_conn_->timer(), poll_limit_ms_, [this] { fail("poll timeout"); });
}

void PollingClient::queue_packet(std::string_view packet) {
  if (failing()) return;
  if (outbox_.size() + packet.size() + 1 > kMaxOutbox) {
    return fail("outbox overflow (the server does not read)");
  }
  if (!outbox_.empty()) outbox_ += '\x1e';
  outbox_ += packet;
  flush_outbox();
}

void PollingClient::flush_outbox() {
  if (failing() || post_in_flight_ || outbox_.empty() || !eio_open_) return;
  if (data_conn_ == nullptr) {
    auto leg = std::make_unique<Leg>(this, Role::kData);
    Leg* raw = leg.get();
    auto c = open_connection(loop_, source_, options_.target, std::move(leg));
    if (!c) return fail("cannot open the POST connection");
    data_conn_ = c.value();
    data_leg_ = raw;
  }
  // At most kMaxPostBody per POST, cut between packets (a single larger packet goes whole).
  size_t cut = outbox_.size();
  size_t skip = 0;
  if (cut > kMaxPostBody) {
    size_t sep = outbox_.rfind('\x1e', kMaxPostBody);
    if (sep == std::string::npos) sep = outbox_.find('\x1e');
    if (sep != std::string::npos) {
      cut = sep;
      skip = 1;
    }
  }
  thread_local std::string req;
  req.clear();
  append_post_request(req, poll_path_, options_.host_header,
                      std::string_view(outbox_).substr(0, cut));
  outbox_.erase(0, cut + skip);
  data_conn_->write(req);
  post_in_flight_ = true;
  data_conn_->loop().timers().arm(data_conn_->timer(), options_.handshake_timeout_ms,
                                  [this] { fail("POST timeout"); });
}

void PollingClient::drop_data_leg() {
  if (data_conn_ == nullptr) return;
  data_conn_->timer().cancel();
  data_leg_->detach();
  if (data_conn_->open()) data_conn_->close();
  data_conn_ = nullptr;
  data_leg_ = nullptr;
}

void PollingClient::fail(std::string_view why) {
  if (closed_) return;
  if (fail_why_.empty()) fail_why_ = why;
  handshake_timer_.cancel();
  drop_data_leg();
  if (poll_conn_ != nullptr) {
    poll_conn_->timer().cancel();
    if (poll_conn_->open()) {
      poll_conn_->abort(why == "shutdown" ? net::CloseReason::kShutdown
                                          : net::CloseReason::kProtocolError);
    }
  }
}

void PollingClient::on_leg_shutdown() {
  fail("shutdown");
}

void PollingClient::on_leg_closed(Role role, net::CloseReason reason) {
  if (role == Role::kData) {
    // The server closed an idle POST connection (keep-alive timeout): reopened when needed.
    // One closing under a POST loses that POST: the client cannot go on.
    if (data_conn_ != nullptr) data_conn_->timer().cancel();
    data_conn_ = nullptr;
    data_leg_ = nullptr;
    if (post_in_flight_) {
      post_in_flight_ = false;
      fail("POST connection closed");
    }
    return;
  }
  // The poll leg: the client ends with it (and is destroyed with its handler after this call).
  poll_conn_ = nullptr;
  fail(close_why(reason, open_));
  closed_ = true;
  events_.on_closed(*this, open_, fail_why_);
}

}  // namespace sb::bench
