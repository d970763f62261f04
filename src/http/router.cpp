#include "http/router.h"

#include <algorithm>
#include <stdexcept>

namespace sb::http {

std::string MethodSet::allow_header() const {
  std::string out;
  for (unsigned i = 0; i <= static_cast<unsigned>(Method::kTrace); ++i) {
    const auto m = static_cast<Method>(i);
    if (!has(m)) continue;
    if (!out.empty()) out += ", ";
    out += method_name(m);
  }
  return out;
}

void Router::add(std::string path, MethodSet methods, RouteHandler handler,
                 std::optional<size_t> max_body_bytes, HeadHook on_head) {
  auto r = std::make_unique<Route>();
  r->path = std::move(path);
  r->methods = methods;
  r->handler = std::move(handler);
  r->max_body_bytes = max_body_bytes;
  r->on_head = std::move(on_head);
  insert(std::move(r));
}

void Router::add_prefix(std::string prefix, MethodSet methods, RouteHandler handler,
                        std::optional<size_t> max_body_bytes, HeadHook on_head) {
  auto r = std::make_unique<Route>();
  r->path = std::move(prefix);
  r->prefix = true;
  r->methods = methods;
  r->handler = std::move(handler);
  r->max_body_bytes = max_body_bytes;
  r->on_head = std::move(on_head);
  insert(std::move(r));
}

void Router::insert(std::unique_ptr<Route> r) {
  if (r->path.empty() || r->path.front() != '/') {
    throw std::invalid_argument("route path must start with '/': " + r->path);
  }
  if (r->methods.empty()) throw std::invalid_argument("route without methods: " + r->path);
  if (!r->handler) throw std::invalid_argument("route without handler: " + r->path);
  auto& list = r->prefix ? prefixes_ : exact_;
  for (const auto& other : list) {
    if (other->path == r->path) throw std::invalid_argument("duplicate route: " + r->path);
  }
  r->allow = r->methods.allow_header();
  list.push_back(std::move(r));
  std::stable_sort(prefixes_.begin(), prefixes_.end(),
                   [](const auto& a, const auto& b) { return a->path.size() > b->path.size(); });
}

RouteMatch Router::match(std::string_view path, Method method) const {
  // Few routes per server (health, metrics, socket.io, static): a linear scan beats hashing.
  const Route* found = nullptr;
  for (const auto& r : exact_) {
    if (r->path == path) {
      found = r.get();
      break;
    }
  }
  if (found == nullptr) {
    for (const auto& r : prefixes_) {
      if (path.substr(0, r->path.size()) == r->path) {
        found = r.get();
        break;
      }
    }
  }
  if (found == nullptr) return {};
  if (!found->methods.has(method)) return {RouteMatch::Kind::kMethodNotAllowed, found};
  return {RouteMatch::Kind::kFound, found};
}

}  // namespace sb::http
