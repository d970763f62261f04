#include "socketio/client.h"

#include <algorithm>

#include "engineio/sid.h"
#include "net/loop.h"
#include "socketio/encoder.h"
#include "socketio/namespace.h"
#include "socketio/server.h"
#include "socketio/sio_metrics.h"

namespace sb::socketio {

Client::Client(Server& server, engineio::Socket& session)
    : server_(server), session_(&session), loop_(static_cast<uint16_t>(session.loop().index())) {}

Client::Client(Server& server, std::unique_ptr<Link> link)
    : server_(server), link_(std::move(link)), loop_(static_cast<uint16_t>(link_->loop())) {}

const engineio::HandshakeInfo* Client::handshake() const {
  if (session_ != nullptr) return &session_->handshake();
  return link_ != nullptr ? link_->handshake() : nullptr;
}

std::string_view Client::eio_sid() const {
  if (session_ != nullptr) return session_->sid();
  return link_ != nullptr ? link_->eio_sid() : std::string_view{};
}

void Client::send_text(std::string_view packet) {
  if (session_ != nullptr) {
    session_->send_text(packet);
  } else if (link_ != nullptr) {
    link_->send_text(packet);
  }
}

void Client::send_binary(std::span<const uint8_t> data) {
  if (session_ != nullptr) {
    session_->send_binary(data);
  } else if (link_ != nullptr) {
    link_->send_binary(data);
  }
}

void Client::close_link() {
  if (session_ != nullptr) {
    session_->close();
  } else if (link_ != nullptr) {
    link_->close();
  }
}

Client::~Client() = default;

template <typename F>
void Client::for_each_socket(F&& f) {
  if (!rare_ || rare_->more.empty()) {
    if (first_) f(first_.get());  // `f` may unlink it: the raw pointer stays valid this turn
    return;
  }
  // A snapshot: `f` may disconnect (and so unlink) any socket.
  std::vector<Socket*> all;
  all.reserve(1 + rare_->more.size());
  if (first_) all.push_back(first_.get());
  for (const auto& s : rare_->more)
    all.push_back(s.get());
  for (Socket* s : all)
    f(s);
}

void Client::start() {
  if (server_.options().connect_timeout_ms == 0) return;
  rare_ = std::make_unique<Rare>();
  server_.loops().timers(loop()).arm(
      rare_->connect_timer, server_.options().connect_timeout_ms, [this] {
        bool any = false;
        for_each_socket([&any](Socket* s) { any = any || s->connected(); });
        if (!any) close("forced server close");
      });
}

void Client::on_joined() {
  joined_ = true;
  // Not called from the timer's own callback (a CONNECT packet or a middleware brings us here).
  if (!rare_) return;
  if (rare_->more.empty()) {
    rare_.reset();
  } else {
    rare_->connect_timer.cancel();
  }
}

void Client::on_text(std::string_view text) {
  if (closed_) return;
  sio_metrics().bytes_in.inc(static_cast<int64_t>(text.size()));
  // A per-connection decoder only for a binary packet (its header starts with 5 or 6, the
  // only types that announce attachments) or while one is collected; other packets decode
  // through a decoder that lives for this call.
  if (!decoder_ && !text.empty() && (text[0] == '5' || text[0] == '6')) {
    decoder_ = std::make_unique<Decoder>(server_.options().limits);
  }
  Decoder local(server_.options().limits);
  auto r = (decoder_ ? *decoder_ : local).on_text(text);
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
  if (!decoder_) return close("forced close");  // no binary packet announced
  auto r = decoder_->on_binary(data);
  if (!r) return close("forced close");
  if (*r != nullptr) on_packet(**r);
}

Socket* Client::socket_for(std::string_view nsp) const {
  if (first_ && first_->nsp().name() == nsp) return first_.get();
  if (rare_) {
    for (const auto& s : rare_->more)
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
    if (!rare_) rare_ = std::make_unique<Rare>();
    rare_->more.push_back(std::move(s));
  }
  nsp->add(ref);
}

void Client::remove(Socket& s) {
  if (first_.get() == &s) {
    server_.retire(std::move(first_));
    return;
  }
  if (!rare_) return;
  auto& more = rare_->more;
  auto it = std::find_if(more.begin(), more.end(), [&](const auto& p) { return p.get() == &s; });
  if (it == more.end()) return;
  std::unique_ptr<Socket> owned = std::move(*it);
  more.erase(it);
  server_.retire(std::move(owned));
}

void Client::send(std::string_view packet, std::span<const Bytes> attachments) {
  if (closed_ || !link_open()) return;
  size_t bytes = packet.size();
  for (const Bytes& a : attachments)
    bytes += a.size();
  sio_metrics().count_out(bytes);
  send_text(packet);
  for (const Bytes& a : attachments) {
    if (!link_open()) return;
    send_binary(a);
  }
}

void Client::on_transport_close(std::string_view reason) {
  if (!closed_) {
    closed_ = true;
    // This may run inside the timer's own callback (connect timeout): cancel, do not free.
    if (rare_) rare_->connect_timer.cancel();
    if (decoder_) decoder_->reset();
    for_each_socket([reason](Socket* s) { s->on_close(reason); });
  }
}

void Client::close(std::string_view reason) {
  if (closed_) return;
  on_transport_close(reason);
  // The Engine.IO close may report back at once (Server::closed); the client is only retired
  // then, and freed at the end of the turn.
  close_link();
}

void Client::disconnect_all_and_close() {
  for_each_socket([](Socket* s) { s->disconnect(false); });
  close("forced server close");
}

}  // namespace sb::socketio
