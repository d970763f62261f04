#include "adapter/local_answers.h"

#include <simdjson.h>

#include "adapter/classic_codec.h"
#include "adapter/handshake_json.h"
#include "engineio/json_writer.h"
#include "socketio/json.h"
#include "socketio/socket.h"

namespace sb::adapter {

void gather_fetch_answer(socketio::Namespace& nsp, socketio::InMemoryAdapter& local,
                         const socketio::BroadcastOptions& opts,
                         std::function<void(std::string members)> done) {
  gather_on_home<std::string>(
      nsp,
      [&local, opts](int loop) {
        // Each loop writes its own sockets' members.
        std::string part;
        for (socketio::Socket* s : local.select_local(loop, opts)) {
          if (!part.empty()) part.push_back(',');
          std::string hs;
          append_handshake_json(hs, *s);
          std::string data;
          append_data_json(data, *s);
          classic::append_fetched_socket(part, s->id(), s->rooms(), hs, data);
        }
        return part;
      },
      [done = std::move(done)](const std::vector<std::string>& parts) {
        std::string members;
        for (const std::string& p : parts) {
          if (p.empty()) continue;
          if (!members.empty()) members.push_back(',');
          members += p;
        }
        done(std::move(members));
      });
}

// `["event",a,b]` → event "event", args `a,b` (raw JSON members): what Args takes.
bool split_event_data(std::string_view data_json, std::string& event, std::string& args) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(data_json.data(), data_json.size(), true).get(root) != simdjson::SUCCESS)
    return false;
  simdjson::dom::array a;
  if (root.get(a) != simdjson::SUCCESS) return false;
  bool first = true;
  for (simdjson::dom::element e : a) {
    if (first) {
      std::string_view ev;
      if (e.get(ev) != simdjson::SUCCESS) return false;
      event.assign(ev);
      first = false;
      continue;
    }
    if (!args.empty()) args.push_back(',');
    args += simdjson::minify(e);
  }
  return !first;
}

std::string event_data_json(std::string_view event, std::span<const socketio::Json> args) {
  std::string out = "[";
  engineio::append_json_string(out, event);
  std::string a;
  std::vector<socketio::Bytes> attachments;  // binary does not travel in JSON requests
  socketio::encode_args(a, args, attachments);
  if (!a.empty()) {
    out.push_back(',');
    out += a;
  }
  out.push_back(']');
  return out;
}

}  // namespace sb::adapter
