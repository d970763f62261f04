#pragma once
// WebSocket close status codes (RFC 6455 §7.4, IANA registry) and the close handshake state.

#include <cstdint>
#include <string_view>

namespace sb::ws {

namespace close_code {
inline constexpr uint16_t kNormal = 1000;
inline constexpr uint16_t kGoingAway = 1001;
inline constexpr uint16_t kProtocolError = 1002;
inline constexpr uint16_t kUnsupportedData = 1003;
inline constexpr uint16_t kNoStatus = 1005;  // never on the wire: "close frame had no code"
inline constexpr uint16_t kAbnormal = 1006;  // never on the wire: "no close frame at all"
inline constexpr uint16_t kInvalidPayload = 1007;
inline constexpr uint16_t kPolicyViolation = 1008;
inline constexpr uint16_t kMessageTooBig = 1009;
inline constexpr uint16_t kMandatoryExtension = 1010;
inline constexpr uint16_t kInternalError = 1011;
inline constexpr uint16_t kServiceRestart = 1012;
inline constexpr uint16_t kTryAgainLater = 1013;
inline constexpr uint16_t kBadGateway = 1014;
inline constexpr uint16_t kTlsHandshake = 1015;  // never on the wire
}  // namespace close_code

/// True if `code` may appear in a received close frame: 1000-1003, 1007-1014 (1012-1014 are
/// IANA-registered and Autobahn accepts them), 3000-4999. Everything else, including the
/// never-on-the-wire 1005/1006/1015, is a protocol error (1002).
bool is_valid_close_code(uint16_t code);

/// Short name for logs ("normal", "protocol_error", ..., "application" for 3000-4999).
std::string_view close_code_name(uint16_t code);

/// The close handshake of one connection (RFC 6455 §7): who sent what, and when the TCP
/// connection may be closed. The session drives it; the codec only reports close frames.
class CloseHandshake {
 public:
  enum class State : uint8_t { kOpen, kCloseSent, kCloseReceived, kClosed };

  State state() const { return state_; }
  /// We sent a close frame. Data frames must not be sent afterwards.
  void on_close_sent() {
    state_ = state_ == State::kCloseReceived ? State::kClosed : State::kCloseSent;
  }
  /// The peer's close frame arrived. Returns true if we must answer with our own close frame
  /// (echoing the code, RFC 6455 §5.5.1); false if ours was already sent.
  bool on_close_received() {
    const bool must_reply = state_ == State::kOpen;
    state_ = state_ == State::kCloseSent ? State::kClosed : State::kCloseReceived;
    return must_reply;
  }
  /// True once both close frames have passed: the server closes the TCP connection first.
  bool done() const { return state_ == State::kClosed; }
  bool can_send_data() const { return state_ == State::kOpen; }

 private:
  State state_ = State::kOpen;
};

}  // namespace sb::ws
