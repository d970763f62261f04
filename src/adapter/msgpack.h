#pragma once
// MessagePack as @socket.io/redis-adapter speaks it: the npm notepack.io 3.x encoder's exact
// choices (DESIGN §5), so a C++ node publishes the same bytes a Node.js node would. Sans-I/O:
// the Writer appends to a string, the Reader pulls tokens from a byte span.
//
// notepack encodes a JS number, not a C++ integer: every integral value takes the smallest
// fixint/uint/int form (positive values never use int8..64, negative values never uint), and
// anything else (fractions, NaN, ±Infinity) is float64. Integral doubles with |v| ≥ 2^64 are
// written as uint64/int64 holding the value modulo 2^64 (1e21 → cf 35 c9 ad c5 de a0 00 00) — a
// notepack quirk kept on purpose, since Node.js peers write and read exactly that.
// Strings use fixstr/str8/str16/str32, buffers bin8/16/32, a Date the Timestamp extension (-1).

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace sb::adapter::msgpack {

/// The Timestamp extension type (a JS Date).
inline constexpr int8_t kExtTimestamp = -1;

/// Appends MessagePack values to `out` (binary bytes in a std::string). Lengths and counts must
/// be below 2^32 (notepack throws beyond; our messages are bounded far below).
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void nil() { out_.push_back(static_cast<char>(0xc0)); }
  void boolean(bool b) { out_.push_back(static_cast<char>(b ? 0xc3 : 0xc2)); }
  /// The smallest form notepack picks for this integer (exact, also beyond 2^53).
  void integer(int64_t v);
  void uinteger(uint64_t v);
  /// A JS number, exactly as notepack writes it (see the file comment).
  void number(double v);
  void str(std::string_view s);
  void bin(std::span<const uint8_t> b);
  void array(size_t n);
  void map(size_t n);
  /// fixext1/2/4/8/16 when the size fits, else ext8/16/32.
  void ext(int8_t type, std::span<const uint8_t> data);
  /// `new Date(ms)` as notepack writes it: timestamp32 for whole seconds in [0, 2^32), timestamp64
  /// up to 2^34 s, timestamp96 otherwise; an invalid date (NaN, beyond ±8.64e15) as notepack's
  /// all-zero timestamp96.
  void date(double ms);

  /// Header only: the caller appends the bytes. Used when the length is known before the data.
  void str_header(size_t n);
  void bin_header(size_t n);

  std::string& out() { return out_; }

 private:
  void put(uint8_t b) { out_.push_back(static_cast<char>(b)); }
  void put_be(uint64_t v, int bytes);
  std::string& out_;
};

/// Encoded size of the header `Writer::str_header/array/map` would write for `n`.
size_t str_header_size(size_t n);
size_t container_header_size(size_t n);
/// Writes the array (`is_map` false) or map header for `n` into exactly `dst` (of the size
/// container_header_size(n) says) — for callers that reserve the header and patch it later.
void write_container_header(char* dst, size_t n, bool is_map);

enum class Type : uint8_t { kNil, kBool, kInt, kUint, kFloat, kStr, kBin, kArray, kMap, kExt };

/// One value, or the header of a container (its elements follow as further tokens).
struct Token {
  Type type = Type::kNil;
  uint8_t head = 0;  // the first byte (e.g. which ext form: notepack treats them differently)
  bool boolean = false;
  bool float32 = false;  // kFloat read from 0xca
  int8_t ext_type = 0;
  int64_t i = 0;                   // kInt (0xd0-0xd3, negative fixint)
  uint64_t u = 0;                  // kUint (positive fixint, 0xcc-0xcf)
  double f = 0;                    // kFloat
  uint32_t size = 0;               // kStr/kBin/kExt payload bytes; kArray elements; kMap entries
  std::span<const uint8_t> bytes;  // kStr/kBin/kExt payload (points into the input)

  std::string_view str() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
  bool is_number() const {
    return type == Type::kInt || type == Type::kUint || type == Type::kFloat;
  }
  /// The JS number notepack decodes (64-bit integers rounded to the nearest double).
  double as_double() const;
};

/// Pull parser. Every length is checked against the input before use, so truncated or hostile
/// input yields an error, never a read out of bounds. Containers are tracked on a small stack:
/// depth() is the number of open containers and nesting beyond max_depth is an error. A
/// container may not announce more elements than there are bytes left (each takes ≥ 1), which
/// bounds what a caller may reserve for it.
class Reader {
 public:
  static constexpr int kDefaultMaxDepth = 64;

  explicit Reader(std::span<const uint8_t> in, int max_depth = kDefaultMaxDepth);
  explicit Reader(std::string_view in, int max_depth = kDefaultMaxDepth);
  /// The Reader keeps a view: reading a temporary string would dangle.
  explicit Reader(std::string&& in, int max_depth = kDefaultMaxDepth) = delete;

  /// Reads the next token. Errors: kProtocol (truncated, reserved byte 0xc1, count beyond the
  /// input), kTooLarge (deeper than max_depth).
  Result<Token> next();
  /// Skips one whole value (a container with everything in it), iteratively.
  Result<void> skip();

  int depth() const { return static_cast<int>(stack_.size()); }
  int max_depth() const { return max_depth_; }
  size_t offset() const { return pos_; }
  size_t remaining() const { return in_.size() - pos_; }
  bool at_end() const { return pos_ == in_.size(); }
  std::span<const uint8_t> input() const { return in_; }

 private:
  Result<Token> read_token();
  bool take(size_t n, std::span<const uint8_t>& out);
  bool read_be(int bytes, uint64_t& v);
  void consumed_one();

  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  int max_depth_;
  std::vector<uint64_t> stack_;  // values still expected by each open container
};

/// A Date's time value from a Timestamp extension payload (4, 8 or 12 bytes), computed as
/// notepack + `new Date()` do: NaN for an invalid date. Error for any other payload size.
Result<double> timestamp_ms(std::span<const uint8_t> payload);
/// notepack's legacy date (fixext8, type 0): a signed 64-bit millisecond count.
double legacy_date_ms(std::span<const uint8_t> payload);
/// `Date.prototype.toISOString` for a valid time value (`YYYY-MM-DDTHH:mm:ss.sssZ`, or a signed
/// six-digit year outside 0..9999). Appends nothing for an invalid time (NaN, beyond ±8.64e15).
void append_iso_date(std::string& out, double ms);

}  // namespace sb::adapter::msgpack
