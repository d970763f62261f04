#include "bench_app.h"

#include <string>

#include "engineio/socket.h"

namespace sb::app {

using socketio::Ack;
using socketio::Args;
using socketio::Socket;

void setup_bench(socketio::Server& io) {
  io.on_connection([&io](Socket& s) {
    if (const engineio::HandshakeInfo* h = s.handshake(); h != nullptr) {
      if (auto room = h->query_param("room"); room && !room->empty()) s.join(*room);
    }
    s.on("b", [&io](const Args& a) {
      std::string room = a.str(1);
      io.to(room.empty() ? "r" : room).emit("m", a.value(0));
    });
    s.on("e", [](const Args& a, const Ack& ack) { ack({a.value(0)}); });
  });
}

}  // namespace sb::app
