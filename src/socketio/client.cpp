#include "socketio/client.h"

#include <algorithm>

#include "engineio/sid.h"
#include "socketio/encoder.h"
#include "socketio/namespace.h"
#include "socketio/server.h"
#include "socketio/sio_metrics.h"

namespace sb::socketio {

Client::Client(Server& server, std::unique_ptr<Link> link)
    : server_(server), link_(std::move(link)), decoder_(server.options().limits) {}

Client::~Client() = default;

template <typename F>
void Client::for_each_socket(F&& f) {
  if (!more_) {
    if (first_) f(first_.get());  // `f` may unlink it: the raw pointer stays valid this turn
    return;
  }
  // A snapshot: `f` may disconnect (and so unlink) any socket.
  std::vector<Socket*> all;
  all.reserve(1 + more_->size());
  if (first_) all.push_back(first_.get());
  for (const auto& s : *more_)
    all.push_back(s.get());
  for (Socket* s : all)
    f(s);
}

void Client::start() {
  if (server_.options().connect_timeout_ms == 0) return;
  connect_timer_ = std::make_unique<net::Timer>();
  server_.loops().timers(loop()).arm(*connect_timer_, server_.options().connect_timeout_ms, [this] {
    bool any = false;
    for_each_socket([&any](Socket* s) { any = any || s->connected(); });
    if (!any) close("forced server close");
  });
}

void Client::on_joined() {
  joined_ = true;
  // Not called from the timer's own callback (a CONNECT packet or a middleware brings us here).
  connect_timer_.reset();
}

void Client::on_text(std::string_view text) {
  if (closed_) return;
  sio_metrics().bytes_in.inc(static_cast<int64_t>(text.size()));
  auto r = decoder_.on_text(text);
  // A malformed packet closes the whole connection (Node: the decoder throws, the client
  // closes the Engine.IO socket, whose close reason the sockets then see).
  if (!r) return close("forced close");
  if (*r != nullptr) {
    // The decoder's text packet is a per-thread scratch: take a copy before application code
    // runs (it could feed another connection's decoder on this thread).
    const Packet p = **r;
    on_packet(p);
  }
}

void Client::on_binary(std::span<const uint8_t> data) {
  if (closed_) return;
  sio_metrics().bytes_in.inc(static_cast<int64_t>(data.size()));
  auto r = decoder_.on_binary(data);
  if (!r) return close("forced close");
  if (*r != nullptr) on_packet(**r);
}

Socket* Client::socket_for(std::string_view nsp) const {
  if (first_ && first_->nsp().name() == nsp) return first_.get();
  if (more_) {
    for (const auto& s : *more_)
      if (s->nsp().name() == nsp) return s.get();
  }
  return nullptr;
}

// Node's Client.ondecoded: CONNECT for a namespace not joined yet; any other packet only for a
// joined one; everything else is a protocol violation that closes the connection.
void Client::on_packet(const Packet& p) {
  sio_metrics().packets_in.inc();
  Socket* s = socket_for(p.nsp);
  if (s == nullptr && p.type == PacketType::kConnect) {
    connect(p.nsp, p.data);
  } else if (s != nullptr && s->connected() && p.type != PacketType::kConnect &&
             p.type != PacketType::kConnectError) {
    s->on_packet(p);
  } else {
    close("forced server close");
  }
}

void Client::connect(std::string_view name, std::string_view auth) {
  Namespace* nsp = server_.find(name);
  if (nsp == nullptr) nsp = server_.match_dynamic(name, Args(auth));
  if (nsp == nullptr) {
    std::string out;
    encode_connect_error(out, name, "Invalid namespace");
    send(out);
    return;
  }
  std::string id =
      engineio::generate_sid({server_.options().node_id, static_cast<uint8_t>(loop())});
  auto s = std::make_unique<Socket>(*nsp, *this, std::move(id), auth);
  Socket& ref = *s;
  if (!first_) {
    first_ = std::move(s);
  } else {
    if (!more_) more_ = std::make_unique<std::vector<std::unique_ptr<Socket>>>();
    more_->push_back(std::move(s));
  }
  nsp->add(ref);
}

void Client::remove(Socket& s) {
  if (first_.get() == &s) {
    server_.retire(std::move(first_));
    return;
  }
  if (!more_) return;
  auto it =
      std::find_if(more_->begin(), more_->end(), [&](const auto& p) { return p.get() == &s; });
  if (it == more_->end()) return;
  std::unique_ptr<Socket> owned = std::move(*it);
  more_->erase(it);
  server_.retire(std::move(owned));
}

void Client::send(std::string_view packet, std::span<const Bytes> attachments) {
  if (closed_ || !link_->is_open()) return;
  size_t bytes = packet.size();
  for (const Bytes& a : attachments)
    bytes += a.size();
  sio_metrics().count_out(bytes);
  link_->send_text(packet);
  for (const Bytes& a : attachments) {
    if (!link_->is_open()) return;
    link_->send_binary(a);
  }
}

void Client::on_transport_close(std::string_view reason) {
  if (!closed_) {
    closed_ = true;
    // This may run inside the timer's own callback (connect timeout): cancel, do not free.
    if (connect_timer_) connect_timer_->cancel();
    decoder_.reset();
    for_each_socket([reason](Socket* s) { s->on_close(reason); });
  }
}

void Client::close(std::string_view reason) {
  if (closed_) return;
  on_transport_close(reason);
  // The Engine.IO close may report back at once (Server::closed); the client is only retired
  // then, and freed at the end of the turn.
  link_->close();
}

void Client::disconnect_all_and_close() {
  for_each_socket([](Socket* s) { s->disconnect(false); });
  close("forced server close");
}

}  // namespace sb::socketio
