#pragma once
// Maps a request path and method to a route handler. Built once at start-up, then shared
// read-only by every loop thread — handlers run concurrently on several loops and must not mutate
// shared state without their own synchronization.
//
// Matching: an exact route wins; otherwise the longest matching prefix route. A path that matches
// a route whose method set lacks the method is a 405 (with Allow), never a fall-through to a
// shorter prefix: the answer for a URL does not depend on the method in surprising ways.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_function.h"
#include "http/request.h"
#include "http/response.h"

namespace sb::net {
class Connection;
}

namespace sb::http {

class Exchange;

/// A set of methods (bit set over Method).
class MethodSet {
 public:
  constexpr MethodSet() = default;
  constexpr MethodSet(std::initializer_list<Method> ms) {
    for (Method m : ms)
      bits_ |= bit(m);
  }
  constexpr bool has(Method m) const { return (bits_ & bit(m)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  /// "GET, HEAD, POST" in Method order, for the Allow header.
  std::string allow_header() const;

 private:
  static constexpr uint16_t bit(Method m) {
    return static_cast<uint16_t>(1u << static_cast<unsigned>(m));
  }
  uint16_t bits_ = 0;
};

inline constexpr MethodSet kGetHead{Method::kGet, Method::kHead};

/// Called on the connection's loop with the request (body included). The handler answers through
/// the Exchange, now or later (Exchange::defer), or takes the connection over (Exchange::upgrade).
using RouteHandler = std::function<void(Exchange&)>;

/// What a route's head hook decides about a request whose head is complete and whose body has
/// not been read yet.
struct HeadVerdict {
  /// Set: answer this instead of reading the body; the connection is closed after it, because
  /// the rest of the body may still be on its way. Its views must outlive the hook call.
  std::optional<Response> refuse;
  /// Runs on the connection's loop if the request ends without reaching the handler: the
  /// connection closed mid-body (client gone, body timeout) or was torn down with its loop (then
  /// on whatever thread destroys the loop). Never runs once the handler was called.
  UniqueFunction<void()> on_abort;
};

/// Called on the connection's loop once per request matched to the route, as soon as its head
/// is complete (after the 413/417 checks, before any body byte is awaited; CORS preflights
/// excluded). Lets a route refuse a request by its head, or keep track of a request whose body
/// is still streaming (Engine.IO: one POST at a time per session). The request's views are valid
/// during the call only.
using HeadHook = std::function<HeadVerdict(const Request&, net::Connection&)>;

struct Route {
  std::string path;  // exact path, or prefix for prefix routes
  bool prefix = false;
  MethodSet methods;
  std::optional<size_t> max_body_bytes;  // unset: ServerOptions::max_body_bytes
  RouteHandler handler;
  HeadHook on_head;   // optional
  std::string allow;  // precomputed Allow header value
};

struct RouteMatch {
  enum class Kind : uint8_t { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;  // kFound and kMethodNotAllowed
};

class Router {
 public:
  Router() = default;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;
  Router(Router&&) = default;
  Router& operator=(Router&&) = default;

  /// Exact-path route. Throws std::invalid_argument (start-up only) for a path not starting with
  /// '/', an empty method set, or a duplicate.
  void add(std::string path, MethodSet methods, RouteHandler handler,
           std::optional<size_t> max_body_bytes = std::nullopt, HeadHook on_head = {});
  /// Prefix route: matches every path starting with `prefix` ("/socket.io/", "/" for static files).
  void add_prefix(std::string prefix, MethodSet methods, RouteHandler handler,
                  std::optional<size_t> max_body_bytes = std::nullopt, HeadHook on_head = {});

  RouteMatch match(std::string_view path, Method method) const;
  size_t size() const { return exact_.size() + prefixes_.size(); }

 private:
  void insert(std::unique_ptr<Route> r);

  std::vector<std::unique_ptr<Route>> exact_;
  std::vector<std::unique_ptr<Route>> prefixes_;  // longest first
};

}  // namespace sb::http
