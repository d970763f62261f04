#include "bench/sio_client.h"

#include <string>

#include "bench/sio_packet.h"
#include "bench/ws_client.h"

namespace sb::bench {
namespace {

std::string_view as_text(std::span<const uint8_t> p) {
  return {reinterpret_cast<const char*>(p.data()), p.size()};
}

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

SioClient::SioClient(const SioClientOptions& options, ClientEvents& events, uint32_t id)
    : options_(options), events_(events), id_(id) {}

SioClient::~SioClient() = default;

Result<SioClient*> SioClient::connect(net::Loop& loop, const sockaddr_in& source,
                                      const sockaddr_in& target, const WsClientOptions& ws_options,
                                      const SioClientOptions& options, ClientEvents& events,
                                      uint32_t id) {
  auto sio = std::make_unique<SioClient>(options, events, id);
  auto ws = WsClient::connect(loop, source, target, ws_options, *sio, id);
  if (!ws) return ws.error();
  SioClient* raw = sio.get();
  raw->ws_ = ws.value();
  ws.value()->own_upper(std::move(sio));
  return raw;
}

void SioClient::send_text(std::string_view text) {
  if (ws_ != nullptr) ws_->send_message(as_bytes(text), false);
}

void SioClient::send_message(std::span<const uint8_t> payload, bool /*binary*/) {
  if (!open_) return;
  // One scratch string per loop thread: emits are built and sent one at a time.
  thread_local std::string out;
  out.clear();
  std::optional<uint64_t> ack;
  if (options_.with_ack) ack = next_ack_id_++;
  append_emit(out, options_.nsp, options_.event, ack, as_text(payload), options_.extra_arg);
  send_text(out);
}

void SioClient::fail(std::string_view why) {
  if (fail_why_.empty()) fail_why_ = why;
  if (ws_ != nullptr) ws_->close(1000);
}

void SioClient::on_open(BenchClient& /*ws*/) {
  // The WebSocket is up; the server speaks first (Engine.IO open packet).
}

void SioClient::on_message(BenchClient& /*ws*/, std::span<const uint8_t> payload) {
  const SioFrame f = parse_server_frame(as_text(payload));
  switch (f.kind) {
    case SioKind::kEioOpen:
      if (eio_open_) return fail("second Engine.IO open packet");
      eio_open_ = true;
      if (options_.nsp == "/") {
        send_text("40");
      } else {
        send_text("40" + options_.nsp + ",");
      }
      return;
    case SioKind::kEioPing: {
      std::string pong = "3";
      pong += f.ping_data;
      send_text(pong);
      return;
    }
    case SioKind::kConnect:
      if (open_ || f.nsp != options_.nsp) return;
      open_ = true;
      if (ws_ != nullptr) ws_->handshake_done();
      events_.on_open(*this);
      return;
    case SioKind::kConnectError:
      return fail("connect_error from the server");
    case SioKind::kEioClose:
    case SioKind::kDisconnect:
      return fail("disconnected by the server");
    case SioKind::kEvent:
      if (!open_) return;
      if (f.event == options_.receive_event && f.has_first_arg) {
        events_.on_message(*this, as_bytes(f.first_arg));
      } else {
        events_.on_message(*this, {});  // counted as foreign
      }
      return;
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

void SioClient::on_closed(BenchClient& /*ws*/, bool /*was_open*/, std::string_view why) {
  ws_ = nullptr;
  events_.on_closed(*this, open_, fail_why_.empty() ? why : fail_why_);
}

}  // namespace sb::bench
