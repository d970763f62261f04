#include "ws/deflate.h"

#include <zlib.h>

#include <algorithm>

#include "http/request.h"
#include "ws/frame_writer.h"

namespace sb::ws {

// ---------------------------------------------------------------------------------------------
// Negotiation

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Splits at the first `sep` outside a quoted string. Returns the head; `rest` gets the tail
// (empty when no separator was found; `found` tells the two apart).
std::string_view split_unquoted(std::string_view s, char sep, std::string_view& rest,
                                bool* found = nullptr) {
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') quoted = !quoted;
    if (s[i] == sep && !quoted) {
      rest = s.substr(i + 1);
      if (found != nullptr) *found = true;
      return s.substr(0, i);
    }
  }
  rest = {};
  if (found != nullptr) *found = false;
  return s;
}

// Window bits value: 1*DIGIT in 8..15 without leading zero, optionally quoted (RFC 7692 §7.1.2).
std::optional<uint8_t> parse_bits(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty() || v.size() > 2 || v[0] == '0') return std::nullopt;
  unsigned n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<unsigned>(c - '0');
  }
  if (n < 8 || n > 15) return std::nullopt;
  return static_cast<uint8_t>(n);
}

struct Offer {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  std::optional<uint8_t> server_max_window_bits;
  bool client_max_window_bits_present = false;
  std::optional<uint8_t> client_max_window_bits;  // present without value = nullopt
};

// Parses the parameters of one permessage-deflate offer; nullopt means "decline this offer".
std::optional<Offer> parse_offer(std::string_view params) {
  Offer o;
  bool seen_snct = false, seen_cnct = false, seen_smwb = false;
  while (!params.empty()) {
    std::string_view rest;
    std::string_view param = trim(split_unquoted(params, ';', rest));
    params = rest;
    if (param.empty()) return std::nullopt;
    std::string_view name = param, value;
    bool has_value = false;
    if (size_t eq = param.find('='); eq != std::string_view::npos) {
      name = trim(param.substr(0, eq));
      value = trim(param.substr(eq + 1));
      has_value = true;
    }
    if (http::iequals(name, "server_no_context_takeover")) {
      if (seen_snct || has_value) return std::nullopt;
      seen_snct = o.server_no_context_takeover = true;
    } else if (http::iequals(name, "client_no_context_takeover")) {
      if (seen_cnct || has_value) return std::nullopt;
      seen_cnct = o.client_no_context_takeover = true;
    } else if (http::iequals(name, "server_max_window_bits")) {
      if (seen_smwb || !has_value) return std::nullopt;
      seen_smwb = true;
      o.server_max_window_bits = parse_bits(value);
      if (!o.server_max_window_bits) return std::nullopt;
    } else if (http::iequals(name, "client_max_window_bits")) {
      if (o.client_max_window_bits_present) return std::nullopt;
      o.client_max_window_bits_present = true;
      if (has_value) {
        o.client_max_window_bits = parse_bits(value);
        if (!o.client_max_window_bits) return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
  }
  return o;
}

std::optional<DeflateParams> accept_offer(const Offer& o, const DeflateOptions& opts) {
  DeflateParams p;
  // zlib's raw deflate has no 8-bit window; we cannot honour a client that insists on it.
  const uint8_t our_server_bits = std::clamp<uint8_t>(opts.server_max_window_bits, 9, 15);
  if (o.server_max_window_bits) {
    if (*o.server_max_window_bits < 9) return std::nullopt;
    p.server_max_window_bits = std::min(*o.server_max_window_bits, our_server_bits);
  } else {
    p.server_max_window_bits = our_server_bits;
  }
  p.server_no_context_takeover = o.server_no_context_takeover || opts.server_no_context_takeover;
  p.client_no_context_takeover = o.client_no_context_takeover || opts.client_no_context_takeover;
  // We may only limit the client's window if it said it can be limited.
  p.client_max_window_bits = 15;
  if (o.client_max_window_bits_present) {
    const uint8_t offered = o.client_max_window_bits.value_or(15);
    p.client_max_window_bits =
        std::min(offered, std::clamp<uint8_t>(opts.client_max_window_bits, 8, 15));
  }
  return p;
}

}  // namespace

std::optional<DeflateParams> negotiate_deflate(std::string_view offers,
                                               const DeflateOptions& opts) {
  if (!opts.enabled) return std::nullopt;
  while (!offers.empty()) {
    std::string_view rest;
    const std::string_view ext = trim(split_unquoted(offers, ',', rest));
    offers = rest;
    std::string_view params;
    bool has_params = false;
    const std::string_view name = trim(split_unquoted(ext, ';', params, &has_params));
    if (!http::iequals(name, "permessage-deflate")) continue;
    if (has_params && trim(params).empty()) continue;  // "permessage-deflate;" is malformed
    const std::optional<Offer> o = parse_offer(params);
    if (!o) continue;
    if (std::optional<DeflateParams> p = accept_offer(*o, opts)) return p;
  }
  return std::nullopt;
}

std::string format_deflate_response(const DeflateParams& p) {
  std::string s = "permessage-deflate";
  if (p.server_no_context_takeover) s += "; server_no_context_takeover";
  if (p.client_no_context_takeover) s += "; client_no_context_takeover";
  if (p.server_max_window_bits != 15) {
    s += "; server_max_window_bits=" + std::to_string(p.server_max_window_bits);
  }
  if (p.client_max_window_bits != 15) {
    s += "; client_max_window_bits=" + std::to_string(p.client_max_window_bits);
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Inflater

namespace {
constexpr uint8_t kTail[4] = {0x00, 0x00, 0xff, 0xff};
constexpr size_t kMinGrow = 4096;
}  // namespace

void Inflater::ZDeleter::operator()(z_stream_s* z) const {
  inflateEnd(z);
  delete z;
}

Inflater::Inflater(uint8_t window_bits, bool no_context_takeover)
    : window_bits_(std::clamp<uint8_t>(window_bits, 8, 15)),
      no_context_takeover_(no_context_takeover) {}

Inflater::~Inflater() = default;

bool Inflater::ensure_init() {
  if (z_) return true;
  auto* z = new z_stream{};
  if (inflateInit2(z, -static_cast<int>(window_bits_)) != Z_OK) {
    delete z;
    return false;
  }
  z_.reset(z);
  return true;
}

Inflater::Status Inflater::run(std::span<const uint8_t> in, std::vector<uint8_t>& out,
                               size_t limit) {
  if (!ensure_init()) return Status::kCorrupt;
  // A sender that ended the deflate stream (BFINAL) may not send more compressed data in this
  // message; what follows (normally just our own tail) is ignored.
  if (stream_ended_) return Status::kOk;
  z_stream_s* z = z_.get();
  z->next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct
  z->avail_in = static_cast<uInt>(in.size());
  const size_t cap = limit + 1;
  for (;;) {
    if (out.size() >= cap) return Status::kTooLarge;
    // Grow geometrically, but never past limit + 1.
    const size_t used = out.size();
    size_t room = out.capacity() - used;
    if (room < kMinGrow) room = std::max(kMinGrow, used);  // doubling
    room = std::min(room, cap - used);
    // reserve() first: resize() alone may over-allocate past the cap by the vector's policy.
    if (out.capacity() < used + room) out.reserve(used + room);
    out.resize(used + room);
    z->next_out = out.data() + used;
    z->avail_out = static_cast<uInt>(room);
    const int rc = ::inflate(z, Z_SYNC_FLUSH);
    out.resize(used + (room - z->avail_out));
    if (rc == Z_STREAM_END) {
      stream_ended_ = true;
      return out.size() > limit ? Status::kTooLarge : Status::kOk;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) return Status::kCorrupt;
    if (out.size() > limit) return Status::kTooLarge;
    // Done when zlib consumed everything and still had output room (nothing pending).
    if (z->avail_in == 0 && z->avail_out != 0) return Status::kOk;
    if (rc == Z_BUF_ERROR && z->avail_out != 0) return Status::kCorrupt;  // no progress possible
  }
}

Inflater::Status Inflater::inflate(std::span<const uint8_t> in, std::vector<uint8_t>& out,
                                   size_t limit) {
  if (in.empty()) return Status::kOk;
  return run(in, out, limit);
}

Inflater::Status Inflater::finish_message(std::vector<uint8_t>& out, size_t limit) {
  const Status s = run(kTail, out, limit);
  if (s != Status::kOk) return s;
  if (no_context_takeover_) {
    inflateReset(z_.get());
  } else if (stream_ended_) {
    // The sender restarted its stream but keeps its window: carry ours across the reset.
    std::vector<uint8_t> dict(size_t{1} << window_bits_);
    uInt len = static_cast<uInt>(dict.size());
    inflateGetDictionary(z_.get(), dict.data(), &len);
    inflateReset(z_.get());
    inflateSetDictionary(z_.get(), dict.data(), len);
  }
  stream_ended_ = false;
  return Status::kOk;
}

void Inflater::reset() {
  if (z_) inflateReset(z_.get());
  stream_ended_ = false;
}

// ---------------------------------------------------------------------------------------------
// Deflater

void Deflater::ZDeleter::operator()(z_stream_s* z) const {
  deflateEnd(z);
  delete z;
}

Deflater::Deflater(uint8_t window_bits, bool no_context_takeover, int level, int mem_level)
    : no_context_takeover_(no_context_takeover) {
  auto* z = new z_stream{};
  const int bits = std::clamp<int>(window_bits, 9, 15);
  if (deflateInit2(z, std::clamp(level, 0, 9), Z_DEFLATED, -bits, std::clamp(mem_level, 1, 9),
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    delete z;
    return;  // compress() reports failure; callers then send uncompressed
  }
  z_.reset(z);
}

Deflater::~Deflater() = default;

bool Deflater::compress(std::span<const uint8_t> message, std::vector<uint8_t>& out) {
  if (!z_) return false;
  if (message.empty()) {
    // An empty stored block (00 00 00 ff ff) minus the tail. zlib itself emits nothing for a
    // second sync flush without input (Z_BUF_ERROR), which would break context takeover.
    out.push_back(0x00);
    return true;
  }
  z_stream_s* z = z_.get();
  const size_t start = out.size();
  z->next_in = const_cast<Bytef*>(message.data());
  z->avail_in = static_cast<uInt>(message.size());
  // deflateBound covers one-shot output; + 16 for the sync-flush marker.
  size_t room = deflateBound(z, static_cast<uLong>(message.size())) + 16;
  for (;;) {
    const size_t used = out.size();
    out.resize(used + room);
    z->next_out = out.data() + used;
    z->avail_out = static_cast<uInt>(room);
    const int rc = deflate(z, Z_SYNC_FLUSH);
    out.resize(used + (room - z->avail_out));
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      out.resize(start);
      deflateReset(z);
      return false;
    }
    if (z->avail_in == 0 && z->avail_out != 0) break;
    room = std::max<size_t>(room, 1024);
  }
  // A sync flush always ends in an empty stored block 00 00 ff ff, which RFC 7692 strips.
  if (out.size() - start < 4 || !std::equal(out.end() - 4, out.end(), kTail)) {
    out.resize(start);
    deflateReset(z);
    return false;
  }
  out.resize(out.size() - 4);
  if (no_context_takeover_) deflateReset(z);
  return true;
}

void build_message_frame(std::vector<uint8_t>& out, MessageType type,
                         std::span<const uint8_t> message, Deflater* deflater, size_t threshold) {
  const Opcode op = type == MessageType::kText ? Opcode::kText : Opcode::kBinary;
  if (deflater != nullptr && message.size() >= threshold) {
    // Compress after a maximal header placeholder, then move the payload behind the real header:
    // one allocation, one memmove of the compressed bytes.
    const size_t start = out.size();
    out.resize(start + kMaxServerHeaderSize);
    if (deflater->compress(message, out)) {
      const size_t clen = out.size() - start - kMaxServerHeaderSize;
      const FrameHeader h = make_header(op, clen, true, true);
      uint8_t* base = out.data() + start;
      std::memmove(base + h.size, base + kMaxServerHeaderSize, clen);
      std::memcpy(base, h.bytes.data(), h.size);
      out.resize(start + h.size + clen);
      return;
    }
    out.resize(start);
  }
  append_frame(out, op, message);
}

}  // namespace sb::ws
