#pragma once
// Client side of Engine.IO v4 / Socket.IO v5 over WebSocket, sans-I/O, for the load generator:
// what a server's text frame means (parse_server_frame) and how a client's emit is written
// (append_emit). Only what a benchmark client needs: the default namespace or any other, events
// and acks whose arguments are JSON; binary packets are recognised and reported, not decoded.
//
// Each WebSocket text message carries exactly one Engine.IO packet ("2" ping, "4..." message);
// a Socket.IO packet is "4" + type digit + [attachments "-"] + [namespace ","] + [ack id] + JSON.
// The parser never allocates: every view points into the frame it was given.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sb::bench {

enum class SioKind : uint8_t {
  kEioOpen,       ///< "0{...}" Engine.IO handshake (payload = the JSON)
  kEioClose,      ///< "1"
  kEioPing,       ///< "2[probe]" — answer with "3" + the same data
  kEioPong,       ///< "3"
  kEioNoop,       ///< "6"
  kConnect,       ///< "40[/nsp,]{...}" namespace connect acknowledged
  kDisconnect,    ///< "41[/nsp,]"
  kEvent,         ///< "42[/nsp,][id][name, args...]"
  kAck,           ///< "43[/nsp,]id[args...]"
  kConnectError,  ///< "44[/nsp,]{...}"
  kBinary,        ///< "45..." / "46...": binary event or ack (attachments follow)
  kMalformed,     ///< anything else
};

struct SioFrame {
  SioKind kind = SioKind::kMalformed;
  std::string_view nsp = "/";
  std::optional<uint64_t> ack_id;
  std::string_view event;  ///< kEvent: the event name (raw JSON string contents)
  /// kEvent: the first argument after the name; kAck: the first argument. For a JSON string this
  /// is its contents, escapes untouched (the stamp is plain hex and dots); otherwise its raw JSON.
  std::string_view first_arg;
  bool first_arg_is_string = false;
  bool has_first_arg = false;
  std::string_view payload;    ///< the JSON part (kEioOpen, kConnect, kConnectError, kEvent, kAck)
  std::string_view ping_data;  ///< kEioPing: data to echo in the pong
};

/// Parses one server text message. Malformed input yields kMalformed, never reads out of bounds.
SioFrame parse_server_frame(std::string_view text);

/// Appends `42[/nsp,][id]["name","<data>"[,"<extra>"]]` to `out`. `data` and `extra` are written
/// as JSON strings without escaping: callers pass text that needs none (checked by
/// needs_json_escape in debug builds and by the tests).
void append_emit(std::string& out, std::string_view nsp, std::string_view name,
                 std::optional<uint64_t> ack_id, std::string_view data,
                 std::string_view extra = {});

/// True if `s` contains a character that must be escaped inside a JSON string.
bool needs_json_escape(std::string_view s);

/// The handshake path for a target URL path: "/" or "" becomes
/// "/socket.io/?EIO=4&transport=websocket"; a path without "EIO=" gets the query appended.
/// `extra_query` ("room=r") is appended when not empty. `transport` "polling" for long-polling.
std::string socketio_path(std::string_view path, std::string_view extra_query,
                          std::string_view transport = "websocket");

}  // namespace sb::bench
