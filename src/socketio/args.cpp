#include "socketio/args.h"

#include <simdjson.h>

namespace sb::socketio {
namespace {

// Splits already-validated JSON array members at top-level commas: only strings and nesting
// need tracking because the decoder has proven the text is valid JSON.
void split_members(std::string_view s, std::vector<std::string_view>& out) {
  size_t start = 0;
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 0) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  if (start < s.size()) out.push_back(s.substr(start));
}

simdjson::dom::parser& parser() {
  thread_local simdjson::dom::parser p;
  return p;
}

// Parses one argument. The returned element lives until the next parse on this thread.
simdjson::simdjson_result<simdjson::dom::element> parse(std::string_view raw) {
  return parser().parse(raw.data(), raw.size(), true);
}

std::optional<std::span<const uint8_t>> placeholder(simdjson::dom::element e,
                                                    std::span<const std::span<const uint8_t>> att) {
  simdjson::dom::object o;
  if (e.get(o) != simdjson::SUCCESS) return std::nullopt;
  bool ph = false;
  uint64_t num = 0;
  if (o["_placeholder"].get(ph) != simdjson::SUCCESS || !ph) return std::nullopt;
  if (o["num"].get(num) != simdjson::SUCCESS || num >= att.size()) return std::nullopt;
  return att[num];
}

Json to_json(simdjson::dom::element e, std::span<const std::span<const uint8_t>> att) {
  if (auto b = placeholder(e, att)) return Json::binary(*b);
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      Json::Array a;
      simdjson::dom::array arr;
      if (e.get(arr) != simdjson::SUCCESS) return Json();
      for (simdjson::dom::element c : arr)
        a.push_back(to_json(c, att));
      return Json(std::move(a));
    }
    case simdjson::dom::element_type::OBJECT: {
      Json::Object o;
      simdjson::dom::object obj;
      if (e.get(obj) != simdjson::SUCCESS) return Json();
      for (auto field : obj) {
        o.keys.emplace_back(field.key);
        o.values.push_back(to_json(field.value, att));
      }
      return Json(std::move(o));
    }
    default:
      return Json::raw(simdjson::minify(e));
  }
}

}  // namespace

Args::Args(std::string_view json, std::span<const std::span<const uint8_t>> attachments)
    : json_(json), attachments_(attachments) {}

void Args::split() const {
  if (split_) return;
  split_ = true;
  split_members(json_, parts_);
}

size_t Args::size() const {
  split();
  return parts_.size();
}

std::string_view Args::raw(size_t i) const {
  split();
  return i < parts_.size() ? parts_[i] : std::string_view();
}

std::string Args::str(size_t i) const {
  const std::string_view r = raw(i);
  if (r.empty() || r.front() != '"') return {};
  std::string_view s;
  if (parse(r).get(s) != simdjson::SUCCESS) return {};
  return std::string(s);
}

std::optional<double> Args::number(size_t i) const {
  const std::string_view r = raw(i);
  if (r.empty()) return std::nullopt;
  double d = 0;
  if (parse(r).get(d) != simdjson::SUCCESS) return std::nullopt;
  return d;
}

std::optional<int64_t> Args::integer(size_t i) const {
  const std::string_view r = raw(i);
  if (r.empty()) return std::nullopt;
  int64_t v = 0;
  if (parse(r).get(v) != simdjson::SUCCESS) return std::nullopt;
  return v;
}

std::optional<bool> Args::boolean(size_t i) const {
  const std::string_view r = raw(i);
  if (r == "true") return true;
  if (r == "false") return false;
  return std::nullopt;
}

std::optional<std::span<const uint8_t>> Args::binary(size_t i) const {
  const std::string_view r = raw(i);
  if (r.empty() || r.front() != '{' || attachments_.empty()) return std::nullopt;
  simdjson::dom::element e;
  if (parse(r).get(e) != simdjson::SUCCESS) return std::nullopt;
  return placeholder(e, attachments_);
}

std::optional<std::string> Args::field(size_t i, std::string_view key) const {
  const std::string_view r = raw(i);
  if (r.empty() || r.front() != '{') return std::nullopt;
  simdjson::dom::element e;
  if (parse(r)[key].get(e) != simdjson::SUCCESS) return std::nullopt;
  return simdjson::minify(e);
}

std::string Args::str(size_t i, std::string_view key) const {
  const std::string_view r = raw(i);
  if (r.empty() || r.front() != '{') return {};
  std::string_view s;
  if (parse(r)[key].get(s) != simdjson::SUCCESS) return {};
  return std::string(s);
}

Json Args::value(size_t i) const {
  const std::string_view r = raw(i);
  if (r.empty()) return Json();
  if (attachments_.empty()) return Json::raw(r);
  simdjson::dom::element e;
  if (parse(r).get(e) != simdjson::SUCCESS) return Json();
  return to_json(e, attachments_);
}

std::vector<Json> Args::values() const {
  std::vector<Json> v;
  for (size_t i = 0; i < size(); ++i)
    v.push_back(value(i));
  return v;
}

Args Args::owned() const {
  Args a;
  auto js = std::make_shared<const std::string>(json_);
  auto bins = std::make_shared<std::vector<Bytes>>();
  auto spans = std::make_shared<std::vector<std::span<const uint8_t>>>();
  for (auto s : attachments_)
    bins->emplace_back(s.begin(), s.end());
  for (const Bytes& b : *bins)
    spans->emplace_back(b.data(), b.size());
  a.json_ = *js;
  a.attachments_ = *spans;
  a.own_json_ = std::move(js);
  a.own_bins_ = std::move(bins);
  a.own_spans_ = std::move(spans);
  return a;
}

}  // namespace sb::socketio
