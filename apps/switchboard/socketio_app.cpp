#include "socketio_app.h"

#include <cstdlib>
#include <memory>
#include <string>

#include "common/log.h"
#include "engineio/server.h"
#include "socketio/server.h"

namespace sb::app {
namespace {

using socketio::Ack;
using socketio::Args;
using socketio::Json;
using socketio::Socket;

uint32_t env_u32(const char* name, uint32_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
}

// `"room"` or `{"room": "…"}`.
std::string room_arg(const Args& a) {
  std::string r = a.str(0);
  return r.empty() ? a.str(0, "room") : r;
}

// `{"timeout": ms}`; `fallback` when absent or not a number.
uint32_t timeout_field(const Args& a, uint32_t fallback) {
  const auto t = a.field(0, "timeout");
  if (!t || t->empty() || (*t)[0] < '0' || (*t)[0] > '9') return fallback;
  return static_cast<uint32_t>(std::strtoul(t->c_str(), nullptr, 10));
}

void chat_handlers(socketio::Server& io, Socket& socket) {
  socket.on("join", [&socket](const Args& a) {
    if (std::string r = room_arg(a); !r.empty()) socket.join(r);
  });
  socket.on("leave", [&socket](const Args& a) { socket.leave(room_arg(a)); });
  socket.on("chat", [&io, &socket](const Args& a) {
    const std::string room = a.str(0, "room");
    if (room.empty()) return;
    auto text = a.field(0, "text");
    io.to(room).emit("chat", socketio::json::object({{"room", room},
                                                     {"text", Json::raw(text ? *text : "null")},
                                                     {"from", socket.id()}}));
  });
  socket.on("echo", [&socket](const Args& a, const Ack& ack) {
    const std::vector<Json> v = a.values();
    if (ack.requested()) {
      ack.send(v);
    } else {
      socket.emit_args("echo", v);
    }
  });
}

void test_handlers(socketio::Server& io, Socket& socket) {
  socket.on("bye", [&socket](const Args&) { socket.disconnect(); });
  socket.on("bye-all", [&socket](const Args&) { socket.disconnect(true); });
  socket.on("ask", [&socket](const Args& a, const Ack& ack) {
    const std::string event = a.str(0, "event");
    const uint32_t t = timeout_field(a, 0);
    socket.emit_with_ack(
        event.empty() ? "question" : event, {}, t, [ack](std::string_view err, const Args& reply) {
          ack({socketio::json::object(
              {{"error", err.empty() ? Json() : Json(err)},
               {"reply", Json::raw(reply.raw(0).empty() ? "null" : reply.raw(0))}})});
        });
  });
  socket.on("ask-room", [&io](const Args& a, const Ack& ack) {
    const uint32_t t = timeout_field(a, 1000);
    io.to(a.str(0, "room"))
        .timeout(t)
        .emit_with_ack(
            "question", {}, [ack](std::string_view err, const std::vector<std::string>& rs) {
              Json list = Json(Json::Array{});
              for (auto& r : rs)
                list.push_back(Json::raw(r));
              ack({socketio::json::object(
                  {{"error", err.empty() ? Json() : Json(err)}, {"responses", std::move(list)}})});
            });
  });
  socket.on("count", [&io](const Args& a, const Ack& ack) {
    io.in(room_arg(a)).fetch_sockets([ack](const std::vector<socketio::SocketInfo>& v) {
      ack({v.size()});
    });
  });
}

struct ChatApp {
  std::unique_ptr<socketio::NetLoops> loops;
  std::unique_ptr<socketio::Server> io;
  std::unique_ptr<engineio::Server> eio;
};

// Lives until exit: the loops (and their connections' callbacks) may use it until they stop.
ChatApp& app() {
  static ChatApp a;
  return a;
}

}  // namespace

void mount_socketio_chat(http::Router& router, net::LoopGroup& loops, const http::Cors& cors,
                         uint16_t node_id) {
  engineio::Options o;
  o.path = "/socket.io/";
  o.node_id = node_id;
  o.ping_interval_ms = env_u32("SB_EIO_PING_INTERVAL", o.ping_interval_ms);
  o.ping_timeout_ms = env_u32("SB_EIO_PING_TIMEOUT", o.ping_timeout_ms);
  o.upgrade_timeout_ms = env_u32("SB_EIO_UPGRADE_TIMEOUT", o.upgrade_timeout_ms);
  o.max_http_buffer_size =
      env_u32("SB_EIO_MAX_HTTP_BUFFER_SIZE", static_cast<uint32_t>(o.max_http_buffer_size));
  if (const char* t = std::getenv("SB_EIO_TRANSPORTS"); t != nullptr && *t != '\0') {
    const std::string_view ts(t);
    o.polling = ts.find("polling") != std::string_view::npos;
    o.websocket = ts.find("websocket") != std::string_view::npos;
  }

  socketio::ServerOptions so;
  so.node_id = node_id;
  so.connect_timeout_ms = env_u32("SB_SIO_CONNECT_TIMEOUT", so.connect_timeout_ms);
  if (o.per_message_deflate) so.deflate = o.deflate;
  const bool test_mode = env_u32("SB_SIO_TEST", 0) != 0;

  ChatApp& a = app();
  a.loops = std::make_unique<socketio::NetLoops>(loops);
  a.io = std::make_unique<socketio::Server>(*a.loops, std::move(so));
  socketio::Server& io = *a.io;
  io.on_connection([&io, test_mode](Socket& s) {
    chat_handlers(io, s);
    if (test_mode) test_handlers(io, s);
  });
  if (test_mode) {
    socketio::Namespace& admin = io.of("/admin");
    admin.use([](Socket& s, const socketio::Next& next) {
      if (s.auth().str(0, "token") == "secret") return next();
      next(socketio::ConnectError{"not authorized", R"({"reason":"bad token"})"});
    });
    admin.on_connection([&io](Socket& s) {
      chat_handlers(io, s);
      s.emit("welcome", "admin");
    });
  }
  a.eio = std::make_unique<engineio::Server>(std::move(o), io);
  a.eio->attach(router, loops, cors);
  SB_LOG_INFO("socket.io chat on {}{}", a.eio->options().path, test_mode ? " (test mode)" : "");
}

void close_socketio_chat() {
  if (app().eio) app().eio->close_all();
}

}  // namespace sb::app
