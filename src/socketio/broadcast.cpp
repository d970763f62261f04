#include "socketio/broadcast.h"

#include "socketio/encoder.h"
#include "socketio/in_memory_adapter.h"
#include "socketio/namespace.h"
#include "socketio/runtime.h"
#include "socketio/server.h"

namespace sb::socketio {

// The serialize-once step: the Socket.IO packet is encoded here, once, into the Engine.IO
// shared form (the WebSocket frame and the polling entry), whatever the number of receivers.
OutPacket encode_shared_event(std::string_view nsp, std::string_view event,
                              std::span<const Json> args, std::optional<uint64_t> ack_id,
                              const ws::DeflateOptions& deflate) {
  std::string a;
  std::vector<Bytes> attachments;
  encode_args(a, args, attachments);
  std::string packet;
  packet.reserve(a.size() + event.size() + nsp.size() + 16);
  encode_event(packet, nsp, event, a, ack_id, static_cast<uint32_t>(attachments.size()));
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
    const OutPacket p =
        encode_shared_event(n->name(), event, args, std::nullopt, n->server().options().deflate);
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
  const OutPacket p =
      encode_shared_event(n->name(), event, args, id, n->server().options().deflate);
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

}  // namespace sb::socketio
