// msgpack_to_json and msgpack_to_json_members (json_msgpack.h): notepack.io's MessagePack →
// JSON.stringify text with attachments, in one streaming pass (two for a reordered map).
#include <algorithm>
#include <cmath>

#include "adapter/json_msgpack.h"
#include "adapter/transcode_common.h"
#include "engineio/json_writer.h"
#include "ws/utf8.h"

namespace sb::adapter::transcode {
namespace {

using msgpack::Reader;
using msgpack::Token;
using msgpack::Type;

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
}  // namespace sb::adapter::transcode

namespace sb::adapter {

Result<void> msgpack_to_json(msgpack::Reader& r, std::string& json_out,
                             std::vector<std::vector<uint8_t>>& attachments, int max_depth) {
  return transcode::run_to_json(r, json_out, attachments, max_depth,
                                [&](transcode::MsgpackToJson& c) -> Result<void> {
                                  auto v = c.value(r, 0);
                                  if (!v) return v.error();
                                  if (!*v) json_out.append("null");
                                  return {};
                                });
}

Result<void> msgpack_to_json_members(msgpack::Reader& r, size_t count, std::string& json_out,
                                     std::vector<std::vector<uint8_t>>& attachments,
                                     int max_depth) {
  return transcode::run_to_json(r, json_out, attachments, max_depth,
                                [&](transcode::MsgpackToJson& c) -> Result<void> {
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
