#include "engineio_app.h"

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "common/log.h"
#include "engineio/server.h"

namespace sb::app {
namespace {

class EchoHandler final : public engineio::Handler {
 public:
  explicit EchoHandler(net::LoopGroup& loops) : loops_(loops) {}
  void set_server(engineio::Server* s) { server_ = s; }

  void on_open(engineio::Socket& /*s*/) override {}
  void on_message(engineio::Socket& s, std::string_view text) override {
    if (text == "__close") {
      s.close();
    } else if (text.starts_with("__broadcast ")) {
      broadcast(text.substr(12));
    } else if (text.starts_with("__burst ")) {
      const int n = std::atoi(std::string(text.substr(8)).c_str());
      for (int i = 0; i < n; ++i)
        s.send_text("burst " + std::to_string(i));
    } else {
      s.send_text(text);
    }
  }
  void on_binary(engineio::Socket& s, std::span<const uint8_t> data) override {
    s.send_binary(data);
  }
  void on_close(engineio::Socket& /*s*/, std::string_view /*reason*/) override {}

 private:
  // Serialize once, post to every loop, wrap once per loop, queue to every session.
  void broadcast(std::string_view text) {
    const engineio::SharedPacket packet = engineio::SharedPacket::text(text);
    for (int i = 0; i < loops_.size(); ++i) {
      loops_.loop(i).post([this, i, packet] {
        const engineio::LocalPacket local(packet);
        server_->for_each_socket(loops_.loop(i),
                                 [&local](engineio::Socket& s) { s.send_shared(local); });
      });
    }
  }

  net::LoopGroup& loops_;
  engineio::Server* server_ = nullptr;
};

uint32_t env_u32(const char* name, uint32_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return static_cast<uint32_t>(std::strtoul(v, nullptr, 10));
}

struct EchoApp {
  std::unique_ptr<EchoHandler> handler;
  std::unique_ptr<engineio::Server> server;
};

// Lives until exit: the loops (and their connections' callbacks) may use it until they stop.
EchoApp& app() {
  static EchoApp a;
  return a;
}

}  // namespace

void mount_engineio_echo(http::Router& router, net::LoopGroup& loops, const http::Cors& cors,
                         uint16_t node_id) {
  engineio::Options o;
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
  o.cookie.enabled = env_u32("SB_EIO_COOKIE", 0) != 0;

  EchoApp& a = app();
  a.handler = std::make_unique<EchoHandler>(loops);
  a.server = std::make_unique<engineio::Server>(std::move(o), *a.handler);
  a.handler->set_server(a.server.get());
  a.server->attach(router, loops, cors);
  SB_LOG_INFO("engine.io echo on {} (ping {}+{} ms)", a.server->options().path,
              a.server->options().ping_interval_ms, a.server->options().ping_timeout_ms);
}

void close_engineio_echo() {
  if (app().server) app().server->close_all();
}

}  // namespace sb::app
