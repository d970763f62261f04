#pragma once
// What a fetchSockets answer tells another node about one of our sockets, in the shape Node's
// RemoteSocket expects: `handshake` {headers, time, address, xdomain, secure, issued, url,
// query, auth} and `data`.

#include <string>

namespace sb::socketio {
class Socket;
}

namespace sb::adapter {

/// Appends the socket's handshake object; nothing when the socket has no handshake (a test
/// link). Call on the socket's loop.
void append_handshake_json(std::string& out, const socketio::Socket& s);
/// Appends `socket.data` when it holds a socketio::Json (Node's socket.data is arbitrary JSON;
/// ours is a std::any — other types do not travel); nothing otherwise.
void append_data_json(std::string& out, const socketio::Socket& s);

}  // namespace sb::adapter
