#pragma once
/// \file
/// The vocabulary of the embedding API: the Socket.IO layer's types under public names.
///
/// These are aliases, not wrappers. A Socket& handed to a connection handler *is* the server's
/// socket object, so the public API adds no indirection on the data path and every feature of
/// the core (acks, rooms, broadcast operators, binary attachments) is available as is. The price
/// is that the installed package ships the internal headers these aliases name (under
/// `include/switchboard/internal/`); application code should only name what this file names.

#include "socketio/adapter.h"
#include "socketio/args.h"
#include "socketio/broadcast.h"
#include "socketio/json.h"
#include "socketio/namespace.h"
#include "socketio/server.h"
#include "socketio/socket.h"

namespace switchboard {

/// One client connected to one namespace (Node's `Socket`). Lives on its client's loop; every
/// handler registered on it runs there. Do not keep a reference past its `disconnect` event —
/// keep a SocketRef (socket.ref()) for deferred work.
using Socket = sb::socketio::Socket;
/// A namespace (Node's `Namespace`): middleware, connection handlers, rooms, broadcast.
using Namespace = sb::socketio::Namespace;
/// Incoming event arguments, parsed lazily: `a.str(0)`, `a.integer(1)`, `a.str(0, "room")`,
/// `a.binary(2)`, `a.value(0)` to forward. A view: valid during the callback (see owned()).
using Args = sb::socketio::Args;
/// The acknowledgement callback of an incoming event: `ack({"ok", 42})`.
using Ack = sb::socketio::Ack;
/// Outgoing argument values: strings, numbers, booleans, null, arrays, objects, binary, raw.
using Json = sb::socketio::Json;
/// Binary payload bytes (become Socket.IO attachments).
using Bytes = sb::socketio::Bytes;
/// `io.to(room).except(other).emit(...)` — a value accumulating targets and flags.
using BroadcastOperator = sb::socketio::BroadcastOperator;
/// The continuation a middleware calls: `next()` or `next(ConnectError{...})`.
using Next = sb::socketio::Next;
/// A middleware rejection, sent to the client as CONNECT_ERROR `{message, data}`.
using ConnectError = sb::socketio::ConnectError;
/// `void(Socket&, Next)`: runs before a socket joins a namespace.
using Middleware = sb::socketio::Middleware;
/// `void(Socket&)`: runs when a socket has joined a namespace.
using ConnectionHandler = sb::socketio::ConnectionHandler;
/// Decides whether a dynamic (parent) namespace accepts a name: `bool(name, auth)`.
using NamespaceMatcher = sb::socketio::NamespaceMatcher;
/// Reply to Socket::emit_with_ack: `void(std::string_view error, const Args& reply)`.
using AckCallback = sb::socketio::AckCallback;
/// Reply to BroadcastOperator::emit_with_ack: `void(error, std::vector<std::string> replies)`.
using BroadcastAckCallback = sb::socketio::BroadcastAckCallback;
/// Finds a socket again later, on its loop (`ref.get()` is nullptr once it is gone).
using SocketRef = sb::socketio::SocketRef;
/// What fetch_sockets reports about a socket.
using SocketInfo = sb::socketio::SocketInfo;

/// Builders for outgoing values: `json::object({{"room", r}, {"text", t}})`, `json::array({1, 2})`.
namespace json = sb::socketio::json;

}  // namespace switchboard
