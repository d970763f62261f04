#include "socketio/json.h"

#include "engineio/json_writer.h"
#include "socketio/encoder.h"

namespace sb::socketio {
namespace {
// Application code builds these trees; a cycle is impossible (values are copied in), but a
// runaway depth would make the peer reject the packet (64 levels): cap it and write null.
constexpr int kMaxDepth = 64;
}  // namespace

Json& Json::set(std::string key, Json value) {
  if (!std::holds_alternative<Object>(v_)) v_ = Object{};
  auto& o = std::get<Object>(v_);
  o.keys.push_back(std::move(key));
  o.values.push_back(std::move(value));
  return *this;
}

Json& Json::push_back(Json value) {
  if (!std::holds_alternative<Array>(v_)) v_ = Array{};
  std::get<Array>(v_).push_back(std::move(value));
  return *this;
}

void Json::write(std::string& out, std::vector<Bytes>& attachments) const {
  write_at(out, attachments, 1);
}

void Json::write_at(std::string& out, std::vector<Bytes>& attachments, int depth) const {
  if (depth > kMaxDepth) {
    out.append("null");
    return;
  }
  switch (v_.index()) {
    case 0:
      out.append("null");
      break;
    case 1:
      out.append(std::get<bool>(v_) ? "true" : "false");
      break;
    case 2:
      engineio::append_json_number(out, std::get<int64_t>(v_));
      break;
    case 3:
      engineio::append_json_number(out, std::get<uint64_t>(v_));
      break;
    case 4:
      engineio::append_json_number(out, std::get<double>(v_));
      break;
    case 5:
      engineio::append_json_string(out, std::get<std::string>(v_));
      break;
    case 6:
      out.append(std::get<Raw>(v_).text.empty() ? std::string_view("null")
                                                : std::string_view(std::get<Raw>(v_).text));
      break;
    case 7: {
      const auto& b = std::get<Binary>(v_);
      append_placeholder(out, static_cast<uint32_t>(attachments.size()));
      attachments.push_back(b.bytes ? *b.bytes : Bytes{});
      break;
    }
    case 8: {
      out.push_back('[');
      bool first = true;
      for (const Json& j : std::get<Array>(v_)) {
        if (!first) out.push_back(',');
        first = false;
        j.write_at(out, attachments, depth + 1);
      }
      out.push_back(']');
      break;
    }
    default: {
      const auto& o = std::get<Object>(v_);
      out.push_back('{');
      for (size_t i = 0; i < o.keys.size(); ++i) {
        if (i) out.push_back(',');
        engineio::append_json_string(out, o.keys[i]);
        out.push_back(':');
        o.values[i].write_at(out, attachments, depth + 1);
      }
      out.push_back('}');
      break;
    }
  }
}

namespace json {
Json object(std::initializer_list<Member> members) {
  Json::Object o;
  o.keys.reserve(members.size());
  o.values.reserve(members.size());
  for (const Member& m : members) {
    o.keys.push_back(m.key);
    o.values.push_back(m.value);
  }
  return Json(std::move(o));
}

Json array(std::initializer_list<Json> values) {
  return Json(Json::Array(values));
}
}  // namespace json

void encode_args(std::string& out, std::span<const Json> args, std::vector<Bytes>& attachments) {
  bool first = true;
  for (const Json& a : args) {
    if (!first) out.push_back(',');
    first = false;
    // The top-level array is depth 1 on the peer's side: members start at depth 2.
    a.write(out, attachments);
  }
}

}  // namespace sb::socketio
