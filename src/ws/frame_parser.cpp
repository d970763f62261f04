#include "ws/frame_parser.h"

#include <algorithm>
#include <cstring>

#include "ws/close_code.h"

namespace sb::ws {

namespace {

constexpr uint8_t kFin = 0x80;
constexpr uint8_t kRsv1 = 0x40;
constexpr uint8_t kRsv23 = 0x30;
constexpr uint8_t kMaskBit = 0x80;

bool is_known_opcode(uint8_t op) {
  return op <= 2 || (op >= 8 && op <= 10);
}

// Buffer growth follows the bytes that actually arrived — never the declared length, or a peer
// could make every connection reserve max_message_size by sending bare headers. Geometric, so
// many small reads or fragments do not reallocate each time; capped by `ceiling` (the known
// final size, or the message limit), so a message never holds more than it can need.
void grow_for(std::vector<uint8_t>& buf, size_t need, size_t ceiling) {
  if (buf.capacity() >= need) return;
  const size_t want = std::max({need, buf.capacity() * 2, size_t{4096}});
  buf.reserve(std::max(need, std::min(want, ceiling)));
}

}  // namespace

FrameParser::FrameParser(Limits limits)
    : max_message_size_(limits.max_message_size), max_fragments_(limits.max_fragments) {}
FrameParser::~FrameParser() = default;
FrameParser::FrameParser(FrameParser&&) noexcept = default;
FrameParser& FrameParser::operator=(FrameParser&&) noexcept = default;

void FrameParser::enable_deflate(const DeflateParams& negotiated) {
  inflater_ = std::make_unique<Inflater>(negotiated.client_max_window_bits,
                                         negotiated.client_no_context_takeover);
}

FeedResult FrameParser::fail(size_t consumed, uint16_t code, const char* reason) {
  state_ = State::kFailed;
  fail_code_ = code;
  fail_reason_ = reason;
  // Nothing more will be delivered: give the memory back now.
  msg_.reset();
  return {consumed, code, reason};
}

std::vector<uint8_t>& FrameParser::message_buffer() {
  if (!msg_) msg_ = std::make_unique<std::vector<uint8_t>>();
  return *msg_;
}

// Everything decidable from the first two header bytes, so a bad frame is rejected before we
// wait for its extended length or payload.
uint16_t FrameParser::check_first_bytes(uint8_t b0, uint8_t b1) {
  const uint8_t op = b0 & 0x0f;
  const auto fail_with = [this](const char* reason) {
    fail_reason_ = reason;
    return close_code::kProtocolError;
  };
  if ((b1 & kMaskBit) == 0) return fail_with("client frame not masked");
  if (!is_known_opcode(op)) return fail_with("reserved opcode");
  if ((b0 & kRsv23) != 0) return fail_with("reserved bits set");
  if (is_control(static_cast<Opcode>(op))) {
    if ((b0 & kFin) == 0) return fail_with("fragmented control frame");
    if ((b1 & 0x7f) > kMaxControlPayload) return fail_with("control frame too long");
    if ((b0 & kRsv1) != 0) return fail_with("reserved bits set");
    return 0;
  }
  if (op == 0) {
    if (!in_message_) return fail_with("continuation without a message");
    if ((b0 & kRsv1) != 0) return fail_with("RSV1 on a continuation frame");
  } else {
    if (in_message_) return fail_with("new message inside a fragmented message");
    if ((b0 & kRsv1) != 0 && !inflater_) return fail_with("reserved bits set");
  }
  return 0;
}

FeedResult FrameParser::feed(std::span<uint8_t> data, FrameVisitor& v) {
  if (state_ == State::kFailed) return {0, fail_code_, std::string_view(fail_reason_)};
  if (state_ == State::kClosed) return {data.size(), 0, {}};
  size_t pos = 0;
  const size_t size = data.size();
  for (;;) {
    if (state_ == State::kPayload) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, size - pos));
      if (n > 0) {
        const std::span<uint8_t> chunk = data.subspan(pos, n);
        apply_mask(chunk, mask_, mask_phase_);
        mask_phase_ = static_cast<uint8_t>((mask_phase_ + n) & 3);
        remaining_ -= n;
        pos += n;
        if (uint16_t c = process_chunk(chunk)) return fail(pos, c, fail_reason_);
      }
      if (remaining_ > 0) return {pos, 0, {}};
      state_ = State::kHeader;
      if (frame_fin_) {
        if (uint16_t c = finish_message(v)) return fail(pos, c, fail_reason_);
      }
      continue;
    }

    // --- frame header ---
    const size_t avail = size - pos;
    if (avail < 2) return {pos, 0, {}};
    uint8_t* h = data.data() + pos;
    if (uint16_t c = check_first_bytes(h[0], h[1])) return fail(pos, c, fail_reason_);
    const uint8_t len7 = h[1] & 0x7f;
    const size_t hdr_len = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
    if (avail < hdr_len) return {pos, 0, {}};
    uint64_t len = len7;
    if (len7 == 126) {
      len = (uint64_t{h[2]} << 8) | h[3];
    } else if (len7 == 127) {
      len = 0;
      for (int i = 0; i < 8; ++i)
        len = (len << 8) | h[2 + i];
      if ((len >> 63) != 0) return fail(pos, close_code::kProtocolError, "64-bit length top bit");
    }
    MaskKey key;
    std::copy_n(h + hdr_len - 4, 4, key.begin());
    const auto op = static_cast<Opcode>(h[0] & 0x0f);
    const bool fin = (h[0] & kFin) != 0;

    if (is_control(op)) {
      // Control frames are handled whole: at most 131 bytes stay unconsumed meanwhile.
      if (avail < hdr_len + len) return {pos, 0, {}};
      const std::span<uint8_t> payload = data.subspan(pos + hdr_len, static_cast<size_t>(len));
      apply_mask(payload, key, 0);
      pos += hdr_len + static_cast<size_t>(len);
      if (uint16_t c = handle_control(op, payload, v)) return fail(pos, c, fail_reason_);
      if (state_ == State::kClosed) return {size, 0, {}};
      continue;
    }

    // Data frame: limits are decided from the header, before anything is buffered.
    if (len > max_message_size_ || wire_size_ + len > max_message_size_) {
      return fail(pos, close_code::kMessageTooBig, "message too big");
    }
    if (fragments_ + 1 > max_fragments_) {
      return fail(pos, close_code::kPolicyViolation, "too many fragments");
    }
    if (op != Opcode::kContinuation) {
      in_message_ = true;
      compressed_ = (h[0] & kRsv1) != 0;
      type_ = op == Opcode::kText ? MessageType::kText : MessageType::kBinary;
    }
    ++fragments_;
    wire_size_ += len;
    pos += hdr_len;

    // Fast path: a whole uncompressed message in the span is delivered in place.
    if (fin && fragments_ == 1 && !compressed_ && size - pos >= len) {
      const std::span<uint8_t> payload = data.subspan(pos, static_cast<size_t>(len));
      apply_mask(payload, key, 0);
      pos += payload.size();
      if (type_ == MessageType::kText && !is_valid_utf8(payload)) {
        return fail(pos, close_code::kInvalidPayload, "invalid UTF-8 in text message");
      }
      reset_message();
      v.on_message(type_, payload);
      continue;
    }

    mask_ = key;
    mask_phase_ = 0;
    frame_fin_ = fin;
    remaining_ = len;
    state_ = State::kPayload;
  }
}

uint16_t FrameParser::process_chunk(std::span<const uint8_t> chunk) {
  std::vector<uint8_t>& buf = message_buffer();
  const size_t before = buf.size();
  if (compressed_) {
    const Inflater::Status s = inflater_->inflate(chunk, buf, max_message_size_);
    if (s == Inflater::Status::kTooLarge) {
      fail_reason_ = "inflated message too big";
      return close_code::kMessageTooBig;
    }
    if (s == Inflater::Status::kCorrupt) {
      fail_reason_ = "invalid compressed data";
      return close_code::kInvalidPayload;
    }
  } else {
    // For an uncompressed message whose last frame is being read, wire_size_ is its final size.
    const size_t ceiling = static_cast<size_t>(frame_fin_ ? wire_size_ : max_message_size_);
    grow_for(buf, before + chunk.size(), ceiling);
    buf.insert(buf.end(), chunk.begin(), chunk.end());
  }
  // Validate only the new bytes, carrying sequence state: fails at the first bad byte, not at the
  // end of the message.
  if (type_ == MessageType::kText &&
      utf8_.feed(std::span<const uint8_t>(buf).subspan(before)) != Utf8Validator::kValid) {
    fail_reason_ = "invalid UTF-8 in text message";
    return close_code::kInvalidPayload;
  }
  return 0;
}

uint16_t FrameParser::finish_message(FrameVisitor& v) {
  std::vector<uint8_t>& buf = message_buffer();  // a message of empty frames may have none
  if (compressed_) {
    const size_t before = buf.size();
    const Inflater::Status s = inflater_->finish_message(buf, max_message_size_);
    if (s != Inflater::Status::kOk) {
      fail_reason_ =
          s == Inflater::Status::kTooLarge ? "inflated message too big" : "invalid compressed data";
      return s == Inflater::Status::kTooLarge ? close_code::kMessageTooBig
                                              : close_code::kInvalidPayload;
    }
    if (type_ == MessageType::kText &&
        utf8_.feed(std::span<const uint8_t>(buf).subspan(before)) != Utf8Validator::kValid) {
      fail_reason_ = "invalid UTF-8 in text message";
      return close_code::kInvalidPayload;
    }
  }
  if (type_ == MessageType::kText && !utf8_.complete()) {
    fail_reason_ = "truncated UTF-8 in text message";
    return close_code::kInvalidPayload;
  }
  const MessageType type = type_;
  // The buffer is released after delivery, even if the visitor throws.
  const std::unique_ptr<std::vector<uint8_t>> msg = std::move(msg_);
  reset_message();
  v.on_message(type, *msg);
  return 0;
}

uint16_t FrameParser::handle_control(Opcode op, std::span<const uint8_t> payload, FrameVisitor& v) {
  if (op == Opcode::kPing) {
    v.on_ping(payload);
    return 0;
  }
  if (op == Opcode::kPong) {
    v.on_pong(payload);
    return 0;
  }
  // Close.
  uint16_t code = close_code::kNoStatus;
  std::string_view reason;
  if (payload.size() == 1) {
    fail_reason_ = "close payload of 1 byte";
    return close_code::kProtocolError;
  }
  if (payload.size() >= 2) {
    code = static_cast<uint16_t>((payload[0] << 8) | payload[1]);
    if (!is_valid_close_code(code)) {
      fail_reason_ = "invalid close code";
      return close_code::kProtocolError;
    }
    const std::span<const uint8_t> r = payload.subspan(2);
    if (!is_valid_utf8(r)) {
      fail_reason_ = "invalid UTF-8 in close reason";
      return close_code::kInvalidPayload;
    }
    reason = std::string_view(reinterpret_cast<const char*>(r.data()), r.size());
  }
  state_ = State::kClosed;
  msg_.reset();
  v.on_close(code, reason);
  return 0;
}

void FrameParser::reset_message() {
  in_message_ = false;
  compressed_ = false;
  fragments_ = 0;
  wire_size_ = 0;
  utf8_.reset();
}

}  // namespace sb::ws
