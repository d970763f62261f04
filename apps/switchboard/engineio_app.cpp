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
                         const AppOptions& options) {
  engineio::Options o = engineio_options(options, "/engine.io/");
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
