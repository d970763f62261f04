#pragma once
// permessage-deflate (RFC 7692): offer negotiation, a bounded inflater for client messages, and a
// deflater that turns one message into one complete, shareable server frame.
//
// Why the server defaults to server_no_context_takeover: with context takeover every compressed
// frame depends on the bytes this connection sent before, so a room broadcast would have to be
// compressed once PER RECEIVER (and each connection would hold a ~256 KiB deflate state). Without
// it every message is compressed from an empty window, so the loop compresses a broadcast ONCE
// into an immutable frame and appends the same bytes to every receiver's queue (DESIGN §2
// "serialize once"), and one Deflater per loop serves all connections. The price is a worse
// ratio on small repetitive messages, which is the right trade for fan-out.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ws/frame.h"

struct z_stream_s;  // zlib, kept out of our headers

namespace sb::ws {

/// Server configuration of permessage-deflate.
struct DeflateOptions {
  bool enabled = true;
  /// See the file comment: lets a broadcast be compressed once for all receivers.
  bool server_no_context_takeover = true;
  /// Ask clients to reset their compressor per message. Off by default: clients compress better
  /// with context, and our inflater is only allocated once a compressed message arrives.
  bool client_no_context_takeover = false;
  /// Our LZ77 window (9..15; zlib cannot produce raw streams with an 8-bit window, so offers
  /// demanding server_max_window_bits=8 are declined).
  uint8_t server_max_window_bits = 15;
  /// The client's window we ask for, if the client offered client_max_window_bits (8..15).
  uint8_t client_max_window_bits = 15;
  /// zlib level (1..9; 1 favours broadcast CPU over ratio) and memLevel (1..9).
  int level = 6;
  int mem_level = 8;
  /// Messages shorter than this are sent uncompressed (legal per message; RSV1 clear).
  size_t compression_threshold = 64;
};

/// What both sides agreed on for one connection.
struct DeflateParams {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  uint8_t server_max_window_bits = 15;
  uint8_t client_max_window_bits = 15;
  bool operator==(const DeflateParams&) const = default;
};

/// Parses a Sec-WebSocket-Extensions value (possibly several offers, comma-separated; pass all
/// header lines joined with ", ") and accepts the first acceptable permessage-deflate offer.
/// An offer with an unknown, duplicated or malformed parameter is declined, not fatal.
std::optional<DeflateParams> negotiate_deflate(std::string_view offers, const DeflateOptions& opts);
/// The response extension line value, e.g. "permessage-deflate; server_no_context_takeover".
std::string format_deflate_response(const DeflateParams& p);

/// Decompresses client messages. zlib state is allocated on the first compressed message, so a
/// connection that negotiated deflate but never uses it costs only this object.
class Inflater {
 public:
  enum class Status : uint8_t { kOk, kTooLarge, kCorrupt };

  Inflater(uint8_t window_bits, bool no_context_takeover);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  /// Inflates `in` (compressed message bytes, any split), appending to `out`. `out` never grows
  /// beyond limit + 1 bytes: one byte past the limit proves the message too large, so a
  /// compression bomb costs at most `limit` bytes of memory and the CPU to produce them.
  Status inflate(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t limit);
  /// Ends a message: inflates the 00 00 ff ff tail the sender stripped (RFC 7692 §7.2.2) and
  /// resets the window when context takeover is off.
  Status finish_message(std::vector<uint8_t>& out, size_t limit);
  /// Drops the current message (after an error) without touching zlib more than needed.
  void reset();

 private:
  bool ensure_init();
  Status run(std::span<const uint8_t> in, std::vector<uint8_t>& out, size_t limit);

  struct ZDeleter {
    void operator()(z_stream_s* z) const;
  };
  std::unique_ptr<z_stream_s, ZDeleter> z_;
  uint8_t window_bits_;
  bool no_context_takeover_;
  bool stream_ended_ = false;  // sender closed the deflate stream (BFINAL) inside this message
};

/// Compresses server messages. With no_context_takeover (the default) one Deflater per loop can
/// serve every connection that negotiated the same server_max_window_bits.
class Deflater {
 public:
  Deflater(uint8_t window_bits, bool no_context_takeover, int level = 6, int mem_level = 8);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  /// Appends the compressed form of one whole message (deflate + sync flush, tail removed) to
  /// `out`. Returns false only if zlib failed (out of memory), leaving `out` as it was.
  bool compress(std::span<const uint8_t> message, std::vector<uint8_t>& out);

 private:
  struct ZDeleter {
    void operator()(z_stream_s* z) const;
  };
  std::unique_ptr<z_stream_s, ZDeleter> z_;
  bool no_context_takeover_;
};

/// Builds the complete server frame for one message, appended to `out`: compressed with RSV1 set
/// when `deflater` is given and the message is at least `threshold` bytes (and compression
/// succeeded), otherwise a plain frame. This is the "encode once per broadcast" entry point.
void build_message_frame(std::vector<uint8_t>& out, MessageType type,
                         std::span<const uint8_t> message, Deflater* deflater, size_t threshold);

}  // namespace sb::ws
