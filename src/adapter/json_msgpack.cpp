#include "adapter/json_msgpack.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "engineio/json_writer.h"
#include "ws/utf8.h"

namespace sb::adapter {
namespace {

using msgpack::Reader;
using msgpack::Token;
using msgpack::Type;
using msgpack::Writer;

// Both converters recurse once per nesting level; the cap keeps a careless max_depth from
// turning into a stack overflow.
constexpr int kDepthCap = 512;
// 2^53: integers up to this magnitude are exact in a double (JavaScript's Number).
constexpr uint64_t kMaxSafe = uint64_t{1} << 53;

constexpr Error kErrJson{Errc::kProtocol, "json: malformed"};
constexpr Error kErrUtf8{Errc::kProtocol, "invalid UTF-8 in a string"};
constexpr Error kErrSurrogate{Errc::kProtocol, "json: lone surrogate escape"};
constexpr Error kErrDepth{Errc::kTooLarge, "nesting too deep"};
constexpr Error kErrPlaceholder{Errc::kProtocol, "json: illegal attachment placeholder"};
constexpr Error kErrKey{Errc::kUnsupported, "msgpack: map key is not a string"};
constexpr Error kErrExt{Errc::kUnsupported, "msgpack: unsupported ext type"};
// Internal: the fast msgpack→JSON pass met a map whose key order JavaScript would change.
constexpr Error kErrNeedOrder{Errc::kUnsupported, "msgpack: key order needs the slow path"};

// An "array index" in ECMAScript terms: canonical decimal of an integer below 2^32 - 1. Objects
// list these keys first, in numeric order, whatever the order they were created in.
bool is_array_index(std::string_view k, uint32_t& idx) {
  if (k.empty() || k.size() > 10 || (k.size() > 1 && k[0] == '0')) return false;
  uint64_t v = 0;
  for (char c : k) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > 4294967294u) return false;
  idx = static_cast<uint32_t>(v);
  return true;
}

bool has_duplicates(std::span<const std::string_view> keys, std::vector<std::string_view>& tmp) {
  if (keys.size() <= 32) {
    for (size_t i = 1; i < keys.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (keys[i] == keys[j]) return true;
      }
    }
    return false;
  }
  tmp.assign(keys.begin(), keys.end());
  std::sort(tmp.begin(), tmp.end());
  return std::adjacent_find(tmp.begin(), tmp.end()) != tmp.end();
}

// The own keys of an object built by assigning `keys` in turn, in JavaScript's order: array
// indices ascending, then the rest by first assignment. Fills `order` with, for each key, the
// position of its last assignment (whose value survives). `drop_proto`: notepack.decode assigns
// with `obj[key] = v`, and "__proto__" then hits the prototype setter instead of adding a key.
void js_key_order(std::span<const std::string_view> keys, bool drop_proto,
                  std::vector<uint32_t>& order) {
  struct Entry {
    std::string_view key;
    uint32_t pos;
  };
  struct Group {
    uint32_t first;
    uint32_t last;
    bool is_index;
    uint32_t index;
  };
  std::vector<Entry> entries;
  entries.reserve(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!(drop_proto && keys[i] == "__proto__")) {
      entries.push_back({keys[i], static_cast<uint32_t>(i)});
    }
  }
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.key < b.key; });
  std::vector<Group> groups;
  for (size_t i = 0; i < entries.size();) {
    size_t j = i;
    while (j + 1 < entries.size() && entries[j + 1].key == entries[i].key)
      ++j;
    Group g{entries[i].pos, entries[j].pos, false, 0};
    g.is_index = is_array_index(entries[i].key, g.index);
    groups.push_back(g);
    i = j + 1;
  }
  std::sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    if (a.is_index != b.is_index) return a.is_index;
    return a.is_index ? a.index < b.index : a.first < b.first;
  });
  order.clear();
  for (const Group& g : groups)
    order.push_back(g.last);
}

void append_utf8(std::string& s, uint32_t cp) {
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    s.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    s.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Inserts the final header of a container whose one-byte provisional header sits at `start`.
void patch_header(std::string& out, size_t start, size_t n, bool is_map) {
  const size_t h = msgpack::container_header_size(n);
  if (h > 1) out.insert(start + 1, h - 1, '\0');
  msgpack::write_container_header(out.data() + start, n, is_map);
}

// Per-thread scratch of both converters: a message is converted without allocating once the
// buffers have grown to its shape. Trimmed after a conversion that made them unusually large.
constexpr size_t kScratchKeep = 64 * 1024;

struct JsonMember {
  size_t begin;  // offset in the output of the key's str header
  uint32_t key_len;
};

struct Scratch {
  std::vector<JsonMember> members;  // members of the open objects, innermost last
  std::vector<std::string_view> keys;
  std::vector<std::string_view> tmp;
  std::vector<uint32_t> order;
  std::string str;  // an unescaped string
  std::string seg;  // reordered members

  void clear() {
    members.clear();
    keys.clear();
    tmp.clear();
    order.clear();
  }
  void trim() {
    if (members.capacity() * sizeof(JsonMember) > kScratchKeep) members = {};
    if (keys.capacity() * sizeof(std::string_view) > kScratchKeep) keys = {};
    if (tmp.capacity() * sizeof(std::string_view) > kScratchKeep) tmp = {};
    if (order.capacity() * sizeof(uint32_t) > kScratchKeep) order = {};
    if (str.capacity() > kScratchKeep) str = {};
    if (seg.capacity() > kScratchKeep) seg = {};
  }
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// ---- JSON → MessagePack -----------------------------------------------------------------------
// One pass over the text, writing MessagePack as it goes. A container's count is known only at
// its end, so a one-byte header is reserved and widened in place when needed. An object's
// members are remembered (by offset in `out`) so that the rare object JavaScript would reorder
// (array-index keys, duplicate keys) can be rewritten once it is complete.
class JsonToMsgpack {
 public:
  JsonToMsgpack(std::string_view json, Attachments att, std::string& out, int max_depth)
      : p_(json.data()),
        end_(json.data() + json.size()),
        att_(att),
        out_(out),
        max_depth_(std::min(max_depth, kDepthCap)) {
    scratch().clear();
  }
  ~JsonToMsgpack() { scratch().trim(); }
  JsonToMsgpack(const JsonToMsgpack&) = delete;
  JsonToMsgpack& operator=(const JsonToMsgpack&) = delete;

  Result<void> document() {
    ws();
    auto v = value(0);
    if (!v) return v.error();
    ws();
    if (p_ != end_) return kErrJson;
    return {};
  }

  Result<void> event(std::string_view name, bool has_args) {
    if (!ws::is_valid_utf8(name)) return kErrUtf8;
    const size_t start = out_.size();
    out_.push_back('\0');
    Writer(out_).str(name);
    size_t count = 1;
    ws();
    if (has_args) {
      for (;;) {
        auto v = value(1);
        if (!v) return v.error();
        ++count;
        ws();
        if (p_ == end_) break;
        if (*p_ != ',') return kErrJson;
        ++p_;
        ws();
      }
    }
    if (p_ != end_) return kErrJson;
    patch_header(out_, start, count, false);
    return {};
  }

 private:
  struct Scalar {
    char kind = 0;  // n(ull) b(ool) d(ouble) s(tring) a(rray) o(bject)
    bool b = false;
    double num = 0;
  };
  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r'))
      ++p_;
  }

  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
      return false;
    }
    p_ += word.size();
    return true;
  }

  // `depth`: containers enclosing this value.
  Result<Scalar> value(int depth) {
    if (p_ == end_) return kErrJson;
    Scalar s;
    switch (*p_) {
      case '{': {
        auto r = object(depth + 1);
        if (!r) return r.error();
        s.kind = 'o';
        return s;
      }
      case '[': {
        auto r = array(depth + 1);
        if (!r) return r.error();
        s.kind = 'a';
        return s;
      }
      case '"': {
        auto r = string();
        if (!r) return r.error();
        s.kind = 's';
        return s;
      }
      case 't':
      case 'f':
        s.kind = 'b';
        s.b = *p_ == 't';
        if (!literal(s.b ? "true" : "false")) return kErrJson;
        Writer(out_).boolean(s.b);
        return s;
      case 'n':
        if (!literal("null")) return kErrJson;
        Writer(out_).nil();
        s.kind = 'n';
        return s;
      default: {
        auto d = number();
        if (!d) return d.error();
        Writer(out_).number(*d);
        s.kind = 'd';
        s.num = *d;
        return s;
      }
    }
  }

  Result<void> array(int depth) {
    if (depth > max_depth_) return kErrDepth;
    const size_t start = out_.size();
    out_.push_back('\0');
    size_t n = 0;
    ++p_;
    ws();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
    } else {
      for (;;) {
        auto v = value(depth);
        if (!v) return v.error();
        ++n;
        ws();
        if (p_ == end_) return kErrJson;
        if (*p_ == ']') {
          ++p_;
          break;
        }
        if (*p_ != ',') return kErrJson;
        ++p_;
        ws();
      }
    }
    patch_header(out_, start, n, false);
    return {};
  }

  Result<void> object(int depth) {
    if (depth > max_depth_) return kErrDepth;
    const size_t start = out_.size();
    out_.push_back('\0');
    const size_t base = members_.size();
    bool placeholder = false;  // socket.io-parser reads the (last) `_placeholder` and `num`
    bool num_is_number = false;
    double num = -1;
    bool reorder = false;
    ++p_;
    ws();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
    } else {
      for (;;) {
        if (p_ == end_ || *p_ != '"') return kErrJson;
        const size_t begin = out_.size();
        auto len = string();
        if (!len) return len.error();
        const std::string_view key(out_.data() + out_.size() - *len, *len);
        uint32_t idx = 0;
        reorder = reorder || is_array_index(key, idx);
        const int which = key == "_placeholder" ? 1 : key == "num" ? 2 : 0;
        members_.push_back({begin, static_cast<uint32_t>(*len)});
        ws();
        if (p_ == end_ || *p_ != ':') return kErrJson;
        ++p_;
        ws();
        auto v = value(depth);
        if (!v) return v.error();
        if (which == 1) placeholder = v->kind == 'b' && v->b;
        if (which == 2) {
          num_is_number = v->kind == 'd';
          num = v->num;
        }
        ws();
        if (p_ == end_) return kErrJson;
        if (*p_ == '}') {
          ++p_;
          break;
        }
        if (*p_ != ',') return kErrJson;
        ++p_;
        ws();
      }
    }
    size_t n = members_.size() - base;
    if (placeholder && !att_.empty()) {
      members_.resize(base);
      if (!num_is_number || !(num >= 0) || num >= static_cast<double>(att_.size()) ||
          num != std::floor(num)) {
        return kErrPlaceholder;
      }
      out_.resize(start);
      Writer(out_).bin(att_[static_cast<size_t>(num)]);
      return {};
    }
    if (n > 1) {
      keys_.clear();
      for (size_t i = base; i < members_.size(); ++i) {
        const JsonMember& m = members_[i];
        keys_.emplace_back(out_.data() + m.begin + msgpack::str_header_size(m.key_len), m.key_len);
      }
      if (reorder || has_duplicates(keys_, tmp_)) n = reorder_members(start + 1, base);
    }
    members_.resize(base);
    patch_header(out_, start, n, true);
    return {};
  }

  // Rewrites the members after `body` in JavaScript's key order, keeping for each key its last
  // value. keys_ holds the member keys. Returns the number of members kept.
  size_t reorder_members(size_t body, size_t base) {
    js_key_order(keys_, false, order_);
    seg_.clear();
    const size_t n = members_.size() - base;
    for (uint32_t i : order_) {
      const size_t b = members_[base + i].begin;
      const size_t e = i + 1 < n ? members_[base + i + 1].begin : out_.size();
      seg_.append(out_, b, e - b);
    }
    out_.resize(body);
    out_.append(seg_);
    return order_.size();
  }

  bool hex4(uint32_t& cp) {
    if (end_ - p_ < 4) return false;
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = *p_++;
      uint32_t d = 0;
      if (is_digit(c)) {
        d = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        d = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        d = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return false;
      }
      cp = cp << 4 | d;
    }
    return true;
  }

  // Writes the string at p_ (on its opening quote) as a msgpack str; returns its byte length
  // (the bytes are the last ones in out_).
  Result<size_t> string() {
    ++p_;
    const char* s = p_;
    while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20)
      ++p_;
    if (p_ == end_) return kErrJson;
    if (*p_ == '"') {  // no escapes: the common case, copied straight
      const std::string_view raw(s, static_cast<size_t>(p_ - s));
      ++p_;
      if (!ws::is_valid_utf8(raw)) return kErrUtf8;
      Writer(out_).str(raw);
      return raw.size();
    }
    str_.assign(s, p_);
    for (;;) {
      if (p_ == end_) return kErrJson;
      const char c = *p_++;
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) return kErrJson;
      if (c != '\\') {
        str_.push_back(c);
        continue;
      }
      if (p_ == end_) return kErrJson;
      switch (*p_++) {
        case '"':
          str_.push_back('"');
          break;
        case '\\':
          str_.push_back('\\');
          break;
        case '/':
          str_.push_back('/');
          break;
        case 'b':
          str_.push_back('\b');
          break;
        case 'f':
          str_.push_back('\f');
          break;
        case 'n':
          str_.push_back('\n');
          break;
        case 'r':
          str_.push_back('\r');
          break;
        case 't':
          str_.push_back('\t');
          break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return kErrJson;
          if (cp >= 0xdc00 && cp <= 0xdfff) return kErrSurrogate;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t lo = 0;
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return kErrSurrogate;
            p_ += 2;
            if (!hex4(lo)) return kErrJson;
            if (lo < 0xdc00 || lo > 0xdfff) return kErrSurrogate;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          append_utf8(str_, cp);
          break;
        }
        default:
          return kErrJson;
      }
    }
    if (!ws::is_valid_utf8(str_)) return kErrUtf8;
    Writer(out_).str(str_);
    return str_.size();
  }

  // A JSON number as JSON.parse reads it: the nearest double, ±Infinity beyond the range.
  Result<double> number() {
    const char* s = p_;
    const bool neg = *p_ == '-';
    if (neg) ++p_;
    const char* int_begin = p_;
    if (p_ < end_ && *p_ == '0') {
      ++p_;
    } else if (p_ < end_ && is_digit(*p_)) {
      while (p_ < end_ && is_digit(*p_))
        ++p_;
    } else {
      return kErrJson;
    }
    const char* int_end = p_;
    const char* frac_begin = p_;
    bool simple = true;
    if (p_ < end_ && *p_ == '.') {
      simple = false;
      frac_begin = ++p_;
      if (p_ == end_ || !is_digit(*p_)) return kErrJson;
      while (p_ < end_ && is_digit(*p_))
        ++p_;
    }
    const char* frac_end = p_;
    int64_t exp = 0;
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      simple = false;
      ++p_;
      bool exp_neg = false;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) exp_neg = *p_++ == '-';
      if (p_ == end_ || !is_digit(*p_)) return kErrJson;
      while (p_ < end_ && is_digit(*p_)) {
        exp = std::min<int64_t>(exp * 10 + (*p_ - '0'), 1'000'000'000);
        ++p_;
      }
      if (exp_neg) exp = -exp;
    }
    if (simple && int_end - int_begin <= 15) {  // exact in a double: no rounding to do
      int64_t v = 0;
      for (const char* q = int_begin; q < int_end; ++q)
        v = v * 10 + (*q - '0');
      return neg ? -static_cast<double>(v) : static_cast<double>(v);
    }
    double d = 0;
    const auto [ptr, ec] = std::from_chars(s, p_, d);
    if (ec == std::errc::result_out_of_range) {
      // Overflow or underflow: tell them apart by the decimal magnitude of the first
      // significant digit (far from zero either way when out of range).
      const char* nz = int_begin;
      while (nz < int_end && *nz == '0')
        ++nz;
      int64_t mag = int_end - nz;
      if (nz == int_end) {
        const char* f = frac_begin;
        while (f < frac_end && *f == '0')
          ++f;
        mag = -(f - frac_begin);
      }
      d = mag + exp > 0 ? std::numeric_limits<double>::infinity() : 0.0;
      if (neg) d = -d;
    } else if (ec != std::errc() || ptr != p_) {
      return kErrJson;
    }
    return d;
  }

  const char* p_;
  const char* end_;
  Attachments att_;
  std::string& out_;
  int max_depth_;
  std::vector<JsonMember>& members_ = scratch().members;
  std::vector<std::string_view>& keys_ = scratch().keys;
  std::vector<std::string_view>& tmp_ = scratch().tmp;
  std::vector<uint32_t>& order_ = scratch().order;
  std::string& str_ = scratch().str;
  std::string& seg_ = scratch().seg;
};

// ---- MessagePack → JSON -----------------------------------------------------------------------
// A single streaming pass handles every map whose keys JavaScript keeps in insertion order. A
// map that JavaScript would reorder (array-index keys, duplicates, "__proto__") aborts the pass;
// the caller then reruns it in ordered mode, where each map is first scanned (keys read, values
// skipped) and its values then converted in the final order. That bounds the work to one scan
// per nesting level, and keeps placeholder numbers in the order of the final text, as
// socket.io-parser's deconstructPacket assigns them.
class MsgpackToJson {
 public:
  MsgpackToJson(std::string& out, std::vector<std::vector<uint8_t>>& att, int max_depth,
                bool ordered)
      : out_(out), att_(att), max_depth_(std::min(max_depth, kDepthCap)), ordered_(ordered) {
    scratch().clear();
  }
  ~MsgpackToJson() { scratch().trim(); }
  MsgpackToJson(const MsgpackToJson&) = delete;
  MsgpackToJson& operator=(const MsgpackToJson&) = delete;

  bool need_ordered() const { return need_ordered_; }

  // Converts one value enclosed by `depth` containers. False: JavaScript's `undefined`.
  Result<bool> value(Reader& r, int depth) {
    auto t = r.next();
    if (!t) return t.error();
    switch (t->type) {
      case Type::kNil:
        out_.append("null");
        return true;
      case Type::kBool:
        out_.append(t->boolean ? "true" : "false");
        return true;
      case Type::kUint:
        if (t->u <= kMaxSafe) {  // exact as a double: integer formatting is the same text
          engineio::append_json_number(out_, t->u);
          return true;
        }
        engineio::append_json_number(out_, t->as_double());
        return true;
      case Type::kInt:
        if (t->i >= -static_cast<int64_t>(kMaxSafe) && t->i <= static_cast<int64_t>(kMaxSafe)) {
          engineio::append_json_number(out_, t->i);
          return true;
        }
        engineio::append_json_number(out_, t->as_double());
        return true;
      case Type::kFloat:
        engineio::append_json_number(out_, t->f);
        return true;
      case Type::kStr:
        if (!ws::is_valid_utf8(t->bytes)) return kErrUtf8;
        engineio::append_json_string(out_, t->str());
        return true;
      case Type::kBin:
        placeholder(t->bytes);
        return true;
      case Type::kArray: {
        if (depth + 1 > max_depth_) return kErrDepth;
        out_.push_back('[');
        for (uint32_t i = 0; i < t->size; ++i) {
          if (i) out_.push_back(',');
          auto v = value(r, depth + 1);
          if (!v) return v.error();
          if (!*v) out_.append("null");  // JSON.stringify writes undefined elements as null
        }
        out_.push_back(']');
        return true;
      }
      case Type::kMap:
        if (depth + 1 > max_depth_) return kErrDepth;
        return ordered_ ? map_ordered(r, t->size, depth + 1) : map(r, t->size, depth + 1);
      case Type::kExt:
        return ext(*t);
    }
    return kErrExt;
  }

 private:
  void placeholder(std::span<const uint8_t> bytes) {
    out_.append(R"({"_placeholder":true,"num":)");
    engineio::append_json_number(out_, static_cast<uint64_t>(att_.size()));
    out_.push_back('}');
    att_.emplace_back(bytes.begin(), bytes.end());
  }

  void date(double ms) {
    if (std::isnan(ms)) {
      out_.append("null");  // Date.prototype.toJSON of an invalid date
      return;
    }
    out_.push_back('"');
    msgpack::append_iso_date(out_, ms);
    out_.push_back('"');
  }

  // notepack's ext handling, by header byte and type (see decode.js).
  Result<bool> ext(const Token& t) {
    if (t.ext_type == msgpack::kExtTimestamp &&
        (t.head == 0xd6 || t.head == 0xd7 || (t.head == 0xc7 && t.size == 12))) {
      auto ms = msgpack::timestamp_ms(t.bytes);
      if (!ms) return ms.error();
      date(*ms);
      return true;
    }
    if (t.ext_type == 0) {
      if (t.head == 0xd4) return false;  // legacy undefined
      if (t.head == 0xd7) {              // legacy Date
        date(msgpack::legacy_date_ms(t.bytes));
        return true;
      }
      if (t.head == 0xc7 || t.head == 0xc8 || t.head == 0xc9) {  // legacy ArrayBuffer
        placeholder(t.bytes);
        return true;
      }
    }
    return kErrExt;
  }

  Result<std::string_view> key(Reader& r) {
    auto k = r.next();
    if (!k) return k.error();
    if (k->type != Type::kStr) return kErrKey;
    if (!ws::is_valid_utf8(k->bytes)) return kErrUtf8;
    return k->str();
  }

  // Writes one member unless its value is undefined. `any`: a member was written before.
  Result<void> member(Reader& r, std::string_view k, int depth, bool& any) {
    const size_t mark = out_.size();
    if (any) out_.push_back(',');
    engineio::append_json_string(out_, k);
    out_.push_back(':');
    auto v = value(r, depth);
    if (!v) return v.error();
    if (*v) {
      any = true;
    } else {
      out_.resize(mark);  // JSON.stringify omits members whose value is undefined
    }
    return {};
  }

  Result<bool> map(Reader& r, uint32_t n, int depth) {
    const size_t base = keys_.size();
    out_.push_back('{');
    bool any = false;
    for (uint32_t i = 0; i < n; ++i) {
      auto k = key(r);
      if (!k) return k.error();
      uint32_t idx = 0;
      if (*k == "__proto__" || is_array_index(*k, idx)) {
        need_ordered_ = true;
        return kErrNeedOrder;
      }
      keys_.push_back(*k);
      auto m = member(r, *k, depth, any);
      if (!m) return m.error();
    }
    out_.push_back('}');
    if (has_duplicates(std::span(keys_).subspan(base), tmp_)) {
      need_ordered_ = true;
      return kErrNeedOrder;
    }
    keys_.resize(base);
    return true;
  }

  Result<bool> map_ordered(Reader& r, uint32_t n, int depth) {
    Reader scan = r;
    std::vector<std::string_view> keys;
    std::vector<size_t> offsets;
    keys.reserve(n);
    offsets.reserve(n);
    for (uint32_t i = 0; i < n; ++i) {
      auto k = key(scan);
      if (!k) return k.error();
      keys.push_back(*k);
      offsets.push_back(scan.offset());
      auto s = scan.skip();
      if (!s) return s.error();
    }
    std::vector<uint32_t> order;
    js_key_order(keys, true, order);
    out_.push_back('{');
    bool any = false;
    for (uint32_t i : order) {
      Reader sub(r.input().subspan(offsets[i]), max_depth_ - depth + 1);
      auto m = member(sub, keys[i], depth, any);
      if (!m) return m.error();
    }
    out_.push_back('}');
    r = std::move(scan);
    return true;
  }

  std::string& out_;
  std::vector<std::vector<uint8_t>>& att_;
  int max_depth_;
  bool ordered_;
  bool need_ordered_ = false;
  std::vector<std::string_view>& keys_ = scratch().keys;  // keys of the open maps, innermost last
  std::vector<std::string_view>& tmp_ = scratch().tmp;
};

// Runs `body(converter)` in a fast pass and, if a map needs JavaScript's key order, once more in
// ordered mode from the same start. On error every output is restored.
template <typename Body>
Result<void> run_to_json(Reader& r, std::string& json_out,
                         std::vector<std::vector<uint8_t>>& attachments, int max_depth, Body body) {
  const size_t out0 = json_out.size();
  const size_t att0 = attachments.size();
  const Reader start = r;
  Result<void> res;
  {
    MsgpackToJson fast(json_out, attachments, max_depth, false);
    res = body(fast);
    if (res || !fast.need_ordered()) {
      if (!res) {
        json_out.resize(out0);
        attachments.resize(att0);
      }
      return res;
    }
  }
  json_out.resize(out0);
  attachments.resize(att0);
  r = start;
  MsgpackToJson ordered(json_out, attachments, max_depth, true);
  res = body(ordered);
  if (!res) {
    json_out.resize(out0);
    attachments.resize(att0);
  }
  return res;
}

}  // namespace

Result<void> json_to_msgpack(std::string_view json, Attachments attachments, std::string& out,
                             int max_depth) {
  const size_t out0 = out.size();
  auto r = JsonToMsgpack(json, attachments, out, max_depth).document();
  if (!r) out.resize(out0);
  return r;
}

Result<void> event_to_msgpack(std::string_view event, std::string_view args_json,
                              Attachments attachments, std::string& out, int max_depth) {
  const size_t out0 = out.size();
  const bool has_args = args_json.find_first_not_of(" \t\n\r") != std::string_view::npos;
  auto r = JsonToMsgpack(args_json, attachments, out, max_depth).event(event, has_args);
  if (!r) out.resize(out0);
  return r;
}

Result<void> msgpack_to_json(msgpack::Reader& r, std::string& json_out,
                             std::vector<std::vector<uint8_t>>& attachments, int max_depth) {
  return run_to_json(r, json_out, attachments, max_depth, [&](MsgpackToJson& c) -> Result<void> {
    auto v = c.value(r, 0);
    if (!v) return v.error();
    if (!*v) json_out.append("null");
    return {};
  });
}

Result<void> msgpack_to_json_members(msgpack::Reader& r, size_t count, std::string& json_out,
                                     std::vector<std::vector<uint8_t>>& attachments,
                                     int max_depth) {
  return run_to_json(r, json_out, attachments, max_depth, [&](MsgpackToJson& c) -> Result<void> {
    for (size_t i = 0; i < count; ++i) {
      if (i) json_out.push_back(',');
      auto v = c.value(r, 1);
      if (!v) return v.error();
      if (!*v) json_out.append("null");
    }
    return {};
  });
}

}  // namespace sb::adapter
