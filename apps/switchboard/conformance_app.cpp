#include "conformance_app.h"

#include <vector>

namespace sb::app {
namespace {

using socketio::Ack;
using socketio::Args;
using socketio::Json;
using socketio::Socket;

// The CONNECT payload is kept as raw JSON ("{}" when absent): forwarded untouched.
void emit_auth(Socket& s) {
  s.emit("auth", s.auth().value(0));
}

}  // namespace

void setup_conformance(socketio::Server& io) {
  io.on_connection([](Socket& s) {
    emit_auth(s);
    s.on("message", [&s](const Args& a) {
      const std::vector<Json> v = a.values();
      s.emit_args("message-back", v);
    });
    s.on("message-with-ack", [](const Args& a, const Ack& ack) {
      const std::vector<Json> v = a.values();
      ack.send(v);
    });
  });
  io.of("/custom").on_connection([](Socket& s) { emit_auth(s); });
}

}  // namespace sb::app
