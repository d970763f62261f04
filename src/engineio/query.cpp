#include "engineio/query.h"

namespace sb::engineio {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

void percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
}

namespace detail {

std::string_view query_part(std::string_view target) {
  const size_t hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  const size_t qm = target.find('?');
  return qm == std::string_view::npos ? target : target.substr(qm + 1);
}

}  // namespace detail

EngineQuery parse_engine_query(std::string_view target) {
  EngineQuery q;
  for_each_query_param(target, [&q](std::string_view k, std::string_view v) {
    std::optional<std::string>* slot = nullptr;
    if (k == "EIO") {
      slot = &q.eio;
    } else if (k == "transport") {
      slot = &q.transport;
    } else if (k == "sid") {
      slot = &q.sid;
    } else if (k == "t") {
      slot = &q.t;
    }
    if (slot == nullptr) return;
    if (slot->has_value()) q.duplicate = true;
    slot->emplace(v);
  });
  return q;
}

}  // namespace sb::engineio
