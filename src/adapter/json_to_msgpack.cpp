// json_to_msgpack and event_to_msgpack (json_msgpack.h): JSON text with attachments →
// notepack.io's MessagePack, in one pass.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "adapter/json_msgpack.h"
#include "adapter/transcode_common.h"
#include "ws/utf8.h"

namespace sb::adapter::transcode {
namespace {

using msgpack::Writer;

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

}  // namespace
}  // namespace sb::adapter::transcode

namespace sb::adapter {

Result<void> json_to_msgpack(std::string_view json, Attachments attachments, std::string& out,
                             int max_depth) {
  const size_t out0 = out.size();
  auto r = transcode::JsonToMsgpack(json, attachments, out, max_depth).document();
  if (!r) out.resize(out0);
  return r;
}

Result<void> event_to_msgpack(std::string_view event, std::string_view args_json,
                              Attachments attachments, std::string& out, int max_depth) {
  const size_t out0 = out.size();
  const bool has_args = args_json.find_first_not_of(" \t\n\r") != std::string_view::npos;
  auto r = transcode::JsonToMsgpack(args_json, attachments, out, max_depth).event(event, has_args);
  if (!r) out.resize(out0);
  return r;
}

}  // namespace sb::adapter
