#include "socketio_app.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/log.h"
#include "emit_api.h"
#include "engineio/server.h"
#include "socketio/broadcast.h"
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

// {error, responses}: the answer to a client that asked for a broadcast or server-side emit
// with acks (error null when every receiver answered).
Json acks_reply(std::string_view err, const std::vector<std::string>& responses) {
  Json list = Json(Json::Array{});
  for (const auto& r : responses)
    list.push_back(Json::raw(r));
  return socketio::json::object(
      {{"error", err.empty() ? Json() : Json(err)}, {"responses", std::move(list)}});
}

std::vector<std::string> list_field(const Args& a, std::string_view key) {
  return string_list(a.field(0, key).value_or("")).value_or(std::vector<std::string>{});
}

// {<rooms_key>, except, local} → io.to(rooms…).except(except…)[.local()] on the main namespace.
socketio::BroadcastOperator target(socketio::Server& io, const Args& a,
                                   std::string_view rooms_key) {
  socketio::BroadcastOptions o;
  o.rooms = list_field(a, rooms_key);
  o.except = list_field(a, "except");
  o.flags.local = a.field(0, "local").value_or("") == "true";
  return socketio::BroadcastOperator(io.of("/"), std::move(o));
}

// Strings as a sorted JSON array (answers gathered from several nodes come in any order).
Json sorted_strings(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  Json list = Json(Json::Array{});
  for (auto& x : v)
    list.push_back(std::move(x));
  return list;
}

// fetchSockets' answer as the tests compare it: [{id, rooms}] sorted by id, rooms sorted.
Json sorted_info(std::vector<socketio::SocketInfo> v) {
  std::sort(v.begin(), v.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
  Json list = Json(Json::Array{});
  for (auto& s : v) {
    list.push_back(socketio::json::object(
        {{"id", std::move(s.id)}, {"rooms", sorted_strings(std::move(s.rooms))}}));
  }
  return list;
}

void chat_handlers(socketio::Server& io, Socket& socket) {
  // With an ack, the room name comes back once the membership is in place: a client can then
  // rely on the next broadcast to the room reaching it, on this node or any other.
  socket.on("join", [&socket](const Args& a, const Ack& ack) {
    const std::string r = room_arg(a);
    if (!r.empty()) socket.join(r);
    ack({r});
  });
  socket.on("leave", [&socket](const Args& a, const Ack& ack) {
    const std::string r = room_arg(a);
    socket.leave(r);
    ack({r});
  });
  // whoami, ack → {id, node}: which node of the cluster this client landed on.
  socket.on("whoami", [&io, &socket](const Args&, const Ack& ack) {
    ack({socketio::json::object(
        {{"id", socket.id()}, {"node", std::to_string(io.options().node_id)}})});
  });
  // address, ack → the client address recorded at the handshake (the balancer's X-Forwarded-For
  // entry when the balancer is a --trusted-proxy).
  socket.on("address", [&socket](const Args&, const Ack& ack) {
    const engineio::HandshakeInfo* h = socket.handshake();
    ack({h != nullptr ? h->address : std::string()});
  });
  // members room, ack → the ids in the room on every node of the cluster (sorted).
  socket.on("members", [&io](const Args& a, const Ack& ack) {
    io.in(room_arg(a)).fetch_sockets([ack](const std::vector<socketio::SocketInfo>& v) {
      std::vector<std::string> ids;
      ids.reserve(v.size());
      for (const auto& s : v)
        ids.push_back(s.id);
      ack({sorted_strings(std::move(ids))});
    });
  });
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
  // "volatile" {to: "self"|"all", seq}, ack → socket.volatile_().emit("v", seq), or
  // io.volatile_().emit("v", seq) for "all"; then ack(true).
  socket.on("volatile", [&io, &socket](const Args& a, const Ack& ack) {
    const Json seq = Json::raw(a.field(0, "seq").value_or("null"));
    if (a.str(0, "to") == "all") {
      io.volatile_().emit("v", seq);
    } else {
      socket.volatile_().emit("v", seq);
    }
    ack({true});
  });
  // socket.use(): an event named "forbidden" is refused; the socket's own "error" listener
  // reports the refusal to the client as "use-error" (Node emits `error` on the server side).
  socket.use([](std::string_view event, const Args&, const socketio::PacketNext& next) {
    if (event == "forbidden") return next("forbidden event", R"({"event":"forbidden"})");
    next();
  });
  socket.on("error", [&socket](const Args& a) { socket.emit("use-error", a.value(0)); });
  socket.on("forbidden", [&socket](const Args&) { socket.emit("forbidden-ran"); });
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
        .emit_with_ack("question", {},
                       [ack](std::string_view err, const std::vector<std::string>& rs) {
                         ack({acks_reply(err, rs)});
                       });
  });
  socket.on("count", [&io](const Args& a, const Ack& ack) {
    io.in(room_arg(a)).fetch_sockets([ack](const std::vector<socketio::SocketInfo>& v) {
      ack({v.size()});
    });
  });
}

// The cluster hooks shared with the Node.js peer (tests/integration/peers/node-sio.mjs, whose
// header lists them): each drives one adapter operation from a client and acks the outcome.
void cluster_test_handlers(socketio::Server& io, Socket& socket) {
  socket.on("bcast", [&io](const Args& a, const Ack& ack) {
    const std::string event = a.str(0, "event");
    if (const auto data = a.field(0, "data"); data) {
      const Json arg = Json::raw(*data);
      target(io, a, "rooms").emit_args(event, std::span<const Json>(&arg, 1));
    } else {
      target(io, a, "rooms").emit_args(event, {});
    }
    ack({true});
  });
  socket.on("fetch", [&io](const Args& a, const Ack& ack) {
    io.in(room_arg(a)).fetch_sockets([ack](std::vector<socketio::SocketInfo> v) {
      ack({sorted_info(std::move(v))});
    });
  });
  socket.on("sockets-join", [&io](const Args& a, const Ack& ack) {
    target(io, a, "in").sockets_join(list_field(a, "rooms"));
    ack({true});
  });
  socket.on("sockets-leave", [&io](const Args& a, const Ack& ack) {
    target(io, a, "in").sockets_leave(list_field(a, "rooms"));
    ack({true});
  });
  socket.on("disconnect-sockets", [&io](const Args& a, const Ack& ack) {
    target(io, a, "in").disconnect_sockets(a.field(0, "close").value_or("") == "true");
    ack({true});
  });
  // Node's RemoteSocket: join/leave/disconnect/emit on each socket fetchSockets found, local
  // or on another node.
  socket.on("remote", [&io](const Args& a, const Ack& ack) {
    const std::string op = a.str(0, "op");
    const std::vector<std::string> room{a.str(0, "room")};
    const bool close = a.field(0, "close").value_or("") == "true";
    const std::string event = a.str(0, "event");
    const Json data = Json::raw(a.field(0, "data").value_or("null"));
    target(io, a, "in")
        .fetch_remote_sockets(
            [ack, op, room, close, event, data](const std::vector<socketio::RemoteSocket>& v) {
              for (const auto& s : v) {
                if (op == "join") s.join(room);
                if (op == "leave") s.leave(room);
                if (op == "disconnect") s.disconnect(close);
                if (op == "emit") s.emit(event, data);
              }
              ack({v.size()});
            });
  });
  // serverSideEmit, with or without acks (then {error, responses} once every server answered).
  socket.on("sse", [&io](const Args& a, const Ack& ack) {
    const std::string event = a.str(0, "event");
    std::vector<Json> args;
    if (const auto raw = a.field(0, "args"); raw && raw->size() >= 2 && raw->front() == '[') {
      args = Args(std::string_view(*raw).substr(1, raw->size() - 2)).values();
    }
    if (a.field(0, "ack").value_or("") != "true") {
      io.of("/").server_side_emit_args(event, args);
      ack({socketio::json::object({{"error", Json()}, {"responses", Json(Json::Array{})}})});
      return;
    }
    io.of("/").server_side_emit_with_ack(
        event, args, [ack](std::string_view err, const std::vector<std::string>& rs) {
          ack({acks_reply(err, rs)});
        });
  });
  socket.on("all-rooms", [&io](const Args&, const Ack& ack) {
    io.of("/").all_rooms(
        [ack](std::vector<std::string> rooms) { ack({sorted_strings(std::move(rooms))}); });
  });
  socket.on("server-count", [&io](const Args&, const Ack& ack) {
    io.of("/").fetch_server_count([ack](size_t n) { ack({n}); });
  });
}

// The server side of the cluster hooks: "ping-sse" answers {node, got: args}; "shout" and
// "ping-sse" are also shown to this node's own clients as an "sse" event {node, event, args}.
void cluster_server_side_handlers(socketio::Server& io) {
  const std::string node = std::to_string(io.options().node_id);
  socketio::Namespace& main = io.of("/");
  main.on_server_side("ping-sse", [node](const Args& a, const socketio::ServerSideAck& ack) {
    Json got = Json(a.values());
    ack(socketio::json::object({{"node", node}, {"got", std::move(got)}}));
  });
  for (const char* ev : {"shout", "ping-sse"}) {
    main.on_server_side(ev, [&io, node, ev](const Args& a, const socketio::ServerSideAck&) {
      Json args = Json(a.values());
      io.local().emit("sse", socketio::json::object(
                                 {{"node", node}, {"event", ev}, {"args", std::move(args)}}));
    });
  }
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
    if (test_mode) {
      test_handlers(io, s);
      cluster_test_handlers(io, s);
    }
  });
  if (!test_mode) return;
  cluster_server_side_handlers(io);
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
                                 std::string_view app_name, const SocketioSetup& setup,
                                 socketio::AdapterFactory adapter) {
  engineio::Options o = engineio_options(options, "/socket.io/");
  socketio::ServerOptions so = socketio_options(options, o);
  if (adapter) so.adapter = std::move(adapter);
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

void release_socketio() {
  SocketioApp& a = app();
  a.eio.reset();
  a.io.reset();
  a.loops.reset();
}

}  // namespace sb::app
