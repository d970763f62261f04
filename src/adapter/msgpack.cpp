#include "adapter/msgpack.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstdio>

namespace sb::adapter::msgpack {
namespace {

constexpr double kTwo32 = 4294967296.0;
// ECMAScript TimeClip bound: a Date beyond ±8.64e15 ms is invalid.
constexpr double kMaxTime = 8.64e15;

// ECMAScript ToUint32 / ToInt32 / ToUint8: notepack computes bytes with JS shifts and stores them
// into a Buffer, and those conversions are what decide the bytes for out-of-range values.
uint32_t to_uint32(double v) {
  if (!std::isfinite(v)) return 0;
  double m = std::fmod(std::trunc(v), kTwo32);
  if (m < 0) m += kTwo32;
  return static_cast<uint32_t>(m);
}
int32_t to_int32(double v) {
  return static_cast<int32_t>(to_uint32(v));
}
uint8_t byte_of(int32_t v) {
  return static_cast<uint8_t>(static_cast<uint32_t>(v) & 0xff);
}

// `new Date(ms)`'s TimeClip: NaN when invalid, else the value truncated to an integer (+0 for -0).
double time_clip(double ms) {
  if (!std::isfinite(ms) || std::fabs(ms) > kMaxTime) return std::nan("");
  return std::trunc(ms) + 0.0;
}

uint64_t load_be(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v = (v << 8) | p[i];
  return v;
}

}  // namespace

// ---- Writer ----------------------------------------------------------------------------------

void Writer::put_be(uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i)
    put(static_cast<uint8_t>(v >> (8 * i)));
}

void Writer::uinteger(uint64_t v) {
  if (v < 0x80) {
    put(static_cast<uint8_t>(v));
  } else if (v < 0x100) {
    put(0xcc);
    put(static_cast<uint8_t>(v));
  } else if (v < 0x10000) {
    put(0xcd);
    put_be(v, 2);
  } else if (v < 0x100000000) {
    put(0xce);
    put_be(v, 4);
  } else {
    put(0xcf);
    put_be(v, 8);
  }
}

void Writer::integer(int64_t v) {
  if (v >= 0) {
    uinteger(static_cast<uint64_t>(v));
  } else if (v >= -0x20) {
    put(static_cast<uint8_t>(v));
  } else if (v >= -0x80) {
    put(0xd0);
    put(static_cast<uint8_t>(v));
  } else if (v >= -0x8000) {
    put(0xd1);
    put_be(static_cast<uint64_t>(v), 2);
  } else if (v >= INT64_C(-0x80000000)) {
    put(0xd2);
    put_be(static_cast<uint64_t>(v), 4);
  } else {
    put(0xd3);
    put_be(static_cast<uint64_t>(v), 8);
  }
}

// notepack's number branch, transcribed. Below 2^32 in magnitude the casts are exact; the 64-bit
// forms are built from the same hi/lo words notepack computes, which for |v| ≥ 2^64 yields the
// value modulo 2^64 (e.g. 1e21 → cf 35 c9 ad c5 de a0 00 00) rather than an error.
void Writer::number(double v) {
  if (std::floor(v) != v || !std::isfinite(v)) {
    put(0xcb);
    put_be(std::bit_cast<uint64_t>(v), 8);
    return;
  }
  if (v >= 0) {  // also -0, which notepack writes as fixint 0
    if (v < kTwo32) {
      uinteger(static_cast<uint64_t>(v));
      return;
    }
    put(0xcf);
    put_be(static_cast<uint32_t>(to_int32(v / kTwo32)), 4);
    put_be(to_uint32(v), 4);
    return;
  }
  if (v >= -2147483648.0) {
    integer(static_cast<int64_t>(v));
    return;
  }
  put(0xd3);
  put_be(static_cast<uint32_t>(to_int32(std::floor(v / kTwo32))), 4);
  put_be(to_uint32(v), 4);
}

void Writer::str_header(size_t n) {
  assert(n <= UINT32_MAX);
  if (n < 0x20) {
    put(static_cast<uint8_t>(0xa0 | n));
  } else if (n < 0x100) {
    put(0xd9);  // notepack uses str8 (some encoders skip it for old-spec compatibility)
    put(static_cast<uint8_t>(n));
  } else if (n < 0x10000) {
    put(0xda);
    put_be(n, 2);
  } else {
    put(0xdb);
    put_be(n, 4);
  }
}

void Writer::str(std::string_view s) {
  str_header(s.size());
  out_.append(s);
}

void Writer::bin_header(size_t n) {
  assert(n <= UINT32_MAX);
  if (n < 0x100) {
    put(0xc4);
    put(static_cast<uint8_t>(n));
  } else if (n < 0x10000) {
    put(0xc5);
    put_be(n, 2);
  } else {
    put(0xc6);
    put_be(n, 4);
  }
}

void Writer::bin(std::span<const uint8_t> b) {
  bin_header(b.size());
  out_.append(reinterpret_cast<const char*>(b.data()), b.size());
}

size_t str_header_size(size_t n) {
  if (n < 0x20) return 1;
  if (n < 0x100) return 2;
  return n < 0x10000 ? 3 : 5;
}

size_t container_header_size(size_t n) {
  if (n < 0x10) return 1;
  return n < 0x10000 ? 3 : 5;
}

void write_container_header(char* dst, size_t n, bool is_map) {
  assert(n <= UINT32_MAX);
  const auto put = [&](size_t i, uint64_t b) { dst[i] = static_cast<char>(b & 0xff); };
  if (n < 0x10) {
    put(0, (is_map ? 0x80 : 0x90) | n);
  } else if (n < 0x10000) {
    put(0, is_map ? 0xde : 0xdc);
    put(1, n >> 8);
    put(2, n);
  } else {
    put(0, is_map ? 0xdf : 0xdd);
    put(1, n >> 24);
    put(2, n >> 16);
    put(3, n >> 8);
    put(4, n);
  }
}

void Writer::array(size_t n) {
  const size_t at = out_.size();
  out_.resize(at + container_header_size(n));
  write_container_header(out_.data() + at, n, false);
}

void Writer::map(size_t n) {
  const size_t at = out_.size();
  out_.resize(at + container_header_size(n));
  write_container_header(out_.data() + at, n, true);
}

void Writer::ext(int8_t type, std::span<const uint8_t> data) {
  const size_t n = data.size();
  assert(n <= UINT32_MAX);
  switch (n) {
    case 1:
      put(0xd4);
      break;
    case 2:
      put(0xd5);
      break;
    case 4:
      put(0xd6);
      break;
    case 8:
      put(0xd7);
      break;
    case 16:
      put(0xd8);
      break;
    default:
      if (n < 0x100) {
        put(0xc7);
        put(static_cast<uint8_t>(n));
      } else if (n < 0x10000) {
        put(0xc8);
        put_be(n, 2);
      } else {
        put(0xc9);
        put_be(n, 4);
      }
  }
  put(static_cast<uint8_t>(type));
  out_.append(reinterpret_cast<const char*>(data.data()), n);
}

// notepack's Date branch, transcribed with JS number semantics. For a valid (integral) time the
// nanoseconds are a multiple of 10^6, so their low 6 bits are zero and notepack's dropping of
// them in timestamp64 loses nothing.
void Writer::date(double ms) {
  const double t = time_clip(ms);
  const double s = std::floor(t / 1e3);
  const double ns = (t - s * 1e3) * 1e6;
  const int32_t ns32 = to_int32(ns);
  if (s >= 0 && ns >= 0 && s <= 17179869183.0) {  // 2^34 - 1
    if (ns == 0 && s <= 4294967295.0) {
      put(0xd6);
      put(0xff);
      put_be(to_uint32(s), 4);
      return;
    }
    put(0xd7);
    put(0xff);
    put(byte_of(ns32 >> 22));
    put(byte_of(ns32 >> 14));
    put(byte_of(ns32 >> 6));
    put(static_cast<uint8_t>(s / kTwo32));  // 0..3: the top bits of the 34-bit seconds
    put_be(to_uint32(s), 4);
    return;
  }
  put(0xc7);
  put(12);
  put(0xff);
  put_be(static_cast<uint32_t>(ns32), 4);
  put_be(static_cast<uint32_t>(to_int32(std::floor(s / kTwo32))), 4);
  put_be(to_uint32(s), 4);
}

// ---- Reader ----------------------------------------------------------------------------------

double Token::as_double() const {
  switch (type) {
    case Type::kUint:
      return static_cast<double>(u);
    case Type::kInt:
      return static_cast<double>(i);
    default:
      return f;
  }
}

Reader::Reader(std::span<const uint8_t> in, int max_depth) : in_(in), max_depth_(max_depth) {
  stack_.reserve(static_cast<size_t>(std::min(std::max(max_depth, 0), 64)));
}

Reader::Reader(std::string_view in, int max_depth)
    : Reader(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(in.data()), in.size()),
             max_depth) {}

bool Reader::take(size_t n, std::span<const uint8_t>& out) {
  if (n > remaining()) return false;
  out = in_.subspan(pos_, n);
  pos_ += n;
  return true;
}

bool Reader::read_be(int bytes, uint64_t& v) {
  if (static_cast<size_t>(bytes) > remaining()) return false;
  v = load_be(in_.data() + pos_, bytes);
  pos_ += static_cast<size_t>(bytes);
  return true;
}

Result<Token> Reader::read_token() {
  static constexpr Error kTruncated{Errc::kProtocol, "msgpack: truncated value"};
  if (at_end()) return kTruncated;
  const uint8_t b = in_[pos_++];
  Token t;
  t.head = b;
  uint64_t n = 0;
  // Sized kinds share the tail below: `t.type` and the width of the length field.
  int len_bytes = 0;
  if (b < 0x80) {
    t.type = Type::kUint;
    t.u = b;
    return t;
  }
  if (b >= 0xe0) {
    t.type = Type::kInt;
    t.i = static_cast<int64_t>(b) - 0x100;  // negative fixint: -32..-1
    return t;
  }
  if (b < 0x90) {
    t.type = Type::kMap;
    n = b & 0x0f;
  } else if (b < 0xa0) {
    t.type = Type::kArray;
    n = b & 0x0f;
  } else if (b < 0xc0) {
    t.type = Type::kStr;
    n = b & 0x1f;
  } else {
    switch (b) {
      case 0xc0:
        return t;
      case 0xc2:
      case 0xc3:
        t.type = Type::kBool;
        t.boolean = b == 0xc3;
        return t;
      case 0xc4:
      case 0xc5:
      case 0xc6:
        t.type = Type::kBin;
        len_bytes = 1 << (b - 0xc4);
        break;
      case 0xc7:
      case 0xc8:
      case 0xc9:
        t.type = Type::kExt;
        len_bytes = 1 << (b - 0xc7);
        break;
      case 0xca:
      case 0xcb: {
        t.type = Type::kFloat;
        t.float32 = b == 0xca;
        if (!read_be(t.float32 ? 4 : 8, n)) return kTruncated;
        t.f = t.float32 ? static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(n)))
                        : std::bit_cast<double>(n);
        return t;
      }
      case 0xcc:
      case 0xcd:
      case 0xce:
      case 0xcf:
        t.type = Type::kUint;
        if (!read_be(1 << (b - 0xcc), t.u)) return kTruncated;
        return t;
      case 0xd0:
      case 0xd1:
      case 0xd2:
      case 0xd3: {
        const int width = 1 << (b - 0xd0);
        if (!read_be(width, n)) return kTruncated;
        // Sign-extend from `width` bytes.
        const int shift = 64 - 8 * width;
        t.type = Type::kInt;
        t.i = static_cast<int64_t>(n << shift) >> shift;
        return t;
      }
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        t.type = Type::kExt;
        n = uint64_t{1} << (b - 0xd4);
        break;
      case 0xd9:
      case 0xda:
      case 0xdb:
        t.type = Type::kStr;
        len_bytes = 1 << (b - 0xd9);
        break;
      case 0xdc:
      case 0xdd:
        t.type = Type::kArray;
        len_bytes = b == 0xdc ? 2 : 4;
        break;
      case 0xde:
      case 0xdf:
        t.type = Type::kMap;
        len_bytes = b == 0xde ? 2 : 4;
        break;
      default:  // 0xc1 is never used
        return Error{Errc::kProtocol, "msgpack: reserved byte 0xc1"};
    }
  }
  if (len_bytes > 0 && !read_be(len_bytes, n)) return kTruncated;
  t.size = static_cast<uint32_t>(n);
  if (t.type == Type::kArray || t.type == Type::kMap) {
    // Each element takes at least one byte: a count beyond the input is a lie, refused before
    // anyone reserves memory for it.
    if (n * (t.type == Type::kMap ? 2 : 1) > remaining()) return kTruncated;
    return t;
  }
  if (t.type == Type::kExt) {
    if (at_end()) return kTruncated;
    t.ext_type = static_cast<int8_t>(in_[pos_++]);
  }
  if (!take(n, t.bytes)) return kTruncated;
  return t;
}

Result<Token> Reader::next() {
  auto t = read_token();
  if (!t) return t;
  if (!stack_.empty()) --stack_.back();
  const bool container = t->type == Type::kArray || t->type == Type::kMap;
  if (container && t->size > 0) {
    // A finished parent stays on the stack until its last child completes: depth is nesting.
    if (depth() >= max_depth_) return Error{Errc::kTooLarge, "msgpack: nesting too deep"};
    stack_.push_back(uint64_t{t->size} * (t->type == Type::kMap ? 2 : 1));
  }
  while (!stack_.empty() && stack_.back() == 0)
    stack_.pop_back();
  return t;
}

Result<void> Reader::skip() {
  const int d = depth();
  auto t = next();
  if (!t) return t.error();
  while (depth() > d) {
    auto c = next();
    if (!c) return c.error();
  }
  return {};
}

// ---- Dates -----------------------------------------------------------------------------------

Result<double> timestamp_ms(std::span<const uint8_t> p) {
  switch (p.size()) {
    case 4:
      return time_clip(static_cast<double>(load_be(p.data(), 4)) * 1e3);
    case 8: {
      const uint64_t hi = load_be(p.data(), 4);
      const uint64_t lo = load_be(p.data() + 4, 4);
      const double s = static_cast<double>(hi & 3) * kTwo32 + static_cast<double>(lo);
      return time_clip(s * 1e3 + static_cast<double>(hi >> 2) / 1e6);
    }
    case 12: {
      const double ns = static_cast<double>(load_be(p.data(), 4));
      const auto hi = static_cast<int32_t>(static_cast<uint32_t>(load_be(p.data() + 4, 4)));
      const double lo = static_cast<double>(load_be(p.data() + 8, 4));
      return time_clip((static_cast<double>(hi) * kTwo32 + lo) * 1e3 + ns / 1e6);
    }
    default:
      return Error{Errc::kProtocol, "msgpack: bad timestamp size"};
  }
}

double legacy_date_ms(std::span<const uint8_t> p) {
  if (p.size() != 8) return std::nan("");
  const auto hi = static_cast<int32_t>(static_cast<uint32_t>(load_be(p.data(), 4)));
  return time_clip(static_cast<double>(hi) * kTwo32 +
                   static_cast<double>(load_be(p.data() + 4, 4)));
}

void append_iso_date(std::string& out, double ms) {
  if (!std::isfinite(ms) || std::fabs(ms) > kMaxTime) return;
  const auto t = static_cast<int64_t>(ms);
  constexpr int64_t kDay = 86400000;
  int64_t days = t / kDay;
  int64_t in_day = t % kDay;
  if (in_day < 0) {
    in_day += kDay;
    --days;
  }
  // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[48];
  int n = 0;
  if (y >= 0 && y <= 9999) {
    n = std::snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(y));
  } else {
    n = std::snprintf(buf, sizeof buf, "%c%06lld", y < 0 ? '-' : '+',
                      static_cast<long long>(y < 0 ? -y : y));
  }
  n += std::snprintf(
      buf + n, sizeof buf - static_cast<size_t>(n), "-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
      static_cast<long long>(m), static_cast<long long>(d),
      static_cast<long long>(in_day / 3600000), static_cast<long long>(in_day / 60000 % 60),
      static_cast<long long>(in_day / 1000 % 60), static_cast<long long>(in_day % 1000));
  out.append(buf, static_cast<size_t>(n));
}

}  // namespace sb::adapter::msgpack
