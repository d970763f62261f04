#include "socketio_app.h"

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
    // chat(room, msg): the founding document's shape, msg forwarded untouched.
    if (std::string room = a.str(0); !room.empty()) {
      io.to(room).emit("chat", a.value(1));
      return;
    }
    // chat({room, text}): the shape the first tests and the C++ example use.
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

struct SocketioApp {
  std::unique_ptr<socketio::NetLoops> loops;
  std::unique_ptr<socketio::Server> io;
  std::unique_ptr<engineio::Server> eio;
};

// Lives until exit: the loops (and their connections' callbacks) may use it until they stop.
SocketioApp& app() {
  static SocketioApp a;
  return a;
}

}  // namespace

void setup_chat(socketio::Server& io) {
  const bool test_mode = env_u32("SB_SIO_TEST", 0) != 0;
  io.on_connection([&io, test_mode](Socket& s) {
    chat_handlers(io, s);
    if (test_mode) test_handlers(io, s);
  });
  if (!test_mode) return;
  socketio::Namespace& admin = io.of("/admin");
  admin.use([](Socket& s, const socketio::Next& next) {
    if (s.auth().str(0, "token") == "secret") return next();
    next(socketio::ConnectError{"not authorized", R"({"reason":"bad token"})"});
  });
  admin.on_connection([&io](Socket& s) {
    chat_handlers(io, s);
    s.emit("welcome", "admin");
  });
  SB_LOG_INFO("socket.io chat: test mode");
}

socketio::Server& mount_socketio(http::Router& router, net::LoopGroup& loops,
                                 const http::Cors& cors, const AppOptions& options,
                                 std::string_view app_name, const SocketioSetup& setup) {
  engineio::Options o = engineio_options(options, "/socket.io/");
  socketio::ServerOptions so = socketio_options(options, o);
  SocketioApp& a = app();
  a.loops = std::make_unique<socketio::NetLoops>(loops);
  a.io = std::make_unique<socketio::Server>(*a.loops, std::move(so));
  setup(*a.io);
  a.eio = std::make_unique<engineio::Server>(std::move(o), *a.io);
  a.eio->attach(router, loops, cors);
  SB_LOG_INFO("socket.io app '{}' on {} (ping {}+{} ms, connect timeout {} ms, node {})", app_name,
              a.eio->options().path, a.eio->options().ping_interval_ms,
              a.eio->options().ping_timeout_ms, a.io->options().connect_timeout_ms,
              options.node_id);
  return *a.io;
}

void close_socketio() {
  if (app().eio) app().eio->close_all();
}

}  // namespace sb::app
