#include "socketio/broadcast.h"

#include "socketio/encoder.h"
#include "socketio/in_memory_adapter.h"
#include "socketio/namespace.h"
#include "socketio/runtime.h"
#include "socketio/server.h"
#include "socketio/sio_metrics.h"

namespace sb::socketio {

namespace {
// Counted once per packet, whatever the number of receivers.
void count_broadcast(const std::string& packet, const std::vector<Bytes>& attachments) {
  size_t bytes = packet.size();
  for (const Bytes& b : attachments)
    bytes += b.size();
  sio_metrics().count_broadcast(bytes);
}
}  // namespace

// The serialize-once step: the Socket.IO packet is encoded here, once, into the Engine.IO
// shared form (the WebSocket frame and the polling entry), whatever the number of receivers.
OutPacket encode_shared_event(std::string_view nsp, std::string_view event,
                              std::span<const Json> args, std::optional<uint64_t> ack_id,
                              const ws::DeflateOptions& deflate, bool keep_source) {
  std::string a;
  std::vector<Bytes> attachments;
  encode_args(a, args, attachments);
  std::string packet;
  packet.reserve(a.size() + event.size() + nsp.size() + 16);
  encode_event(packet, nsp, event, a, ack_id, static_cast<uint32_t>(attachments.size()));
  count_broadcast(packet, attachments);
  OutPacket p;
  p.text = engineio::SharedPacket::text(packet, deflate);
  p.attachments.reserve(attachments.size());
  for (const Bytes& b : attachments)
    p.attachments.push_back(engineio::SharedPacket::binary_message(b, deflate));
  if (keep_source) {
    // The data array is the packet's JSON after its header: `["event",args…]`.
    auto src = std::make_shared<PacketSource>();
    // Searched after the namespace: a namespace name may itself contain '['.
    const size_t nsp_end = nsp == "/" ? 0 : packet.find(nsp) + nsp.size();
    const size_t open = packet.find('[', nsp_end);
    if (open != std::string::npos) src->data_json.assign(packet, open);
    src->attachments = std::move(attachments);
    p.source = std::move(src);
  }
  return p;
}

OutPacket encode_shared_data(std::string_view nsp, std::string_view data_json,
                             const std::vector<Bytes>& attachments, std::optional<uint64_t> ack_id,
                             const ws::DeflateOptions& deflate) {
  std::string packet;
  packet.reserve(data_json.size() + nsp.size() + 24);
  const auto n = static_cast<uint32_t>(attachments.size());
  append_header(packet, n > 0 ? PacketType::kBinaryEvent : PacketType::kEvent, nsp, ack_id, n);
  packet.append(data_json);
  count_broadcast(packet, attachments);  // a broadcast from another node, serialized here once
  OutPacket p;
  p.text = engineio::SharedPacket::text(packet, deflate);
  p.attachments.reserve(attachments.size());
  for (const Bytes& b : attachments)
    p.attachments.push_back(engineio::SharedPacket::binary_message(b, deflate));
  return p;
}

std::vector<Namespace*> BroadcastOperator::targets() const {
  if (nsp_->is_parent()) return nsp_->children();
  return {nsp_};
}

void BroadcastOperator::emit_args(std::string_view event, std::span<const Json> args) const {
  for (Namespace* n : targets()) {
    const bool source = !opts_.flags.local && n->adapter().wants_source();
    const OutPacket p = encode_shared_event(n->name(), event, args, std::nullopt,
                                            n->server().options().deflate, source);
    n->adapter().broadcast(p, opts_);
  }
}

void BroadcastOperator::emit_with_ack(std::string_view event, std::span<const Json> args,
                                      BroadcastAckCallback cb) const {
  BroadcastOptions o = opts_;
  if (!o.flags.timeout_ms) o.flags.timeout_ms = InMemoryAdapter::kDefaultAckTimeoutMs;
  // A parent namespace: one namespace only (its children are separate ack spaces); Node does
  // not support acks there either.
  const std::vector<Namespace*> t = targets();
  if (t.empty()) {
    if (cb) cb({}, {});
    return;
  }
  Namespace* n = t.front();
  const uint64_t id = n->next_ack_id();
  const bool source = !o.flags.local && n->adapter().wants_source();
  const OutPacket p =
      encode_shared_event(n->name(), event, args, id, n->server().options().deflate, source);
  n->adapter().broadcast_with_ack(p, o, id, std::move(cb));
}

void BroadcastOperator::sockets_join(const std::vector<std::string>& rooms) const {
  for (Namespace* n : targets())
    n->adapter().add_sockets(opts_, rooms);
}

void BroadcastOperator::sockets_leave(const std::vector<std::string>& rooms) const {
  for (Namespace* n : targets())
    n->adapter().del_sockets(opts_, rooms);
}

void BroadcastOperator::disconnect_sockets(bool close) const {
  for (Namespace* n : targets())
    n->adapter().disconnect_sockets(opts_, close);
}

void BroadcastOperator::fetch_sockets(std::function<void(std::vector<SocketInfo>)> cb) const {
  const std::vector<Namespace*> t = targets();
  if (t.empty()) {
    cb({});
    return;
  }
  t.front()->adapter().fetch_sockets(opts_, std::move(cb));
}

void BroadcastOperator::fetch_remote_sockets(
    std::function<void(std::vector<RemoteSocket>)> cb) const {
  const std::vector<Namespace*> t = targets();
  if (t.empty()) {
    cb({});
    return;
  }
  Namespace* n = t.front();
  n->adapter().fetch_sockets(opts_, [n, cb = std::move(cb)](std::vector<SocketInfo> infos) {
    std::vector<RemoteSocket> out;
    out.reserve(infos.size());
    for (SocketInfo& i : infos)
      out.emplace_back(*n, std::move(i));
    cb(std::move(out));
  });
}

void RemoteSocket::emit_args(std::string_view event, std::span<const Json> args) const {
  BroadcastOperator(*nsp_).to(info_.id).emit_args(event, args);
}

void RemoteSocket::emit_with_ack(std::string_view event, std::span<const Json> args,
                                 uint32_t timeout_ms, BroadcastAckCallback cb) const {
  BroadcastOperator(*nsp_)
      .to(info_.id)
      .timeout(timeout_ms)
      .emit_with_ack(event, args, std::move(cb));
}

void RemoteSocket::join(const std::vector<std::string>& rooms) const {
  BroadcastOperator(*nsp_).in(info_.id).sockets_join(rooms);
}

void RemoteSocket::leave(const std::vector<std::string>& rooms) const {
  BroadcastOperator(*nsp_).in(info_.id).sockets_leave(rooms);
}

void RemoteSocket::disconnect(bool close) const {
  BroadcastOperator(*nsp_).in(info_.id).disconnect_sockets(close);
}

}  // namespace sb::socketio
