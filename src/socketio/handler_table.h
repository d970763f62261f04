#pragma once
// The event handlers of a socket, shared between sockets the way JavaScript engines share
// hidden classes. Almost every socket of a namespace registers the same handlers in the same
// order (the connection handler runs the same `s.on(...)` calls for each), so each socket
// holds one pointer to an immutable, reference-counted HandlerTable, and sockets that
// registered the same sequence hold the same table. Without this, every idle connection
// carried its own copy of every (event name, std::function) pair.
//
// "The same handler" is decided without running anything: the callable's type and its bytes
// (HandlerKey). That is exact for callables that are trivially copyable and const-callable:
// such a value is nothing but its bytes, copies of equal bytes behave identically, and a call
// cannot change it (a `mutable` lambda, whose copies would each keep their own state, is not
// const-callable and never shared). `[&io](const Args&)` or a captureless lambda qualifies;
// a std::function, a capture with a destructor, or a capture over 16 bytes does not — its
// socket gets a private table (correct, just not shared). Equal values with different padding
// bytes are merely not shared; different values never compare equal. (The one blind spot: a
// hand-written functor whose const operator() writes `mutable` members would be shared and
// its state with it; a lambda cannot have such members.)
//
// Tables live per namespace per loop (HandlerCache, in Namespace::PerLoop): loop-local, plain
// reference counts, no locks. A shared table is found by its content (the sequence of
// (event, key) pairs), not by the chain of on() calls that built it, and it is freed with its
// last reference (the cache holds none): a table is only ever alive because a socket (or a
// dispatch in progress) uses it, so shared tables never cost more than private ones would,
// and sockets with per-socket captures (`[&socket]`) leave nothing behind when they go. The
// price: an intermediate table of a sequence (after the first of two on() calls) that no live
// socket sits on is built again for each new socket and freed by its next on() — a few
// short-lived small allocations per connection, where the per-socket vector grew anyway.
// At most kMaxTables shared tables exist per namespace per loop; past that, new sequences get
// private tables, so the cache's index and lookups stay bounded whatever the application does.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "socketio/args.h"

namespace sb::socketio {

class Ack;
using EventHandler = std::function<void(const Args& args, Ack ack)>;

/// What makes two handlers the same for sharing: the callable's type and its bytes.
struct HandlerKey {
  static constexpr size_t kMaxBytes = 16;  // two captured references/pointers
  const void* type = nullptr;              // nullptr: not shareable
  uint8_t size = 0;
  std::array<unsigned char, kMaxBytes> bytes{};  // bytes past `size` stay zero

  bool shareable() const { return type != nullptr; }
  friend bool operator==(const HandlerKey&, const HandlerKey&) = default;

  /// The key of `f`; `const_callable`: whether `f` can be called through a const reference
  /// (else it may keep state between calls, and each socket must keep its own copy).
  template <bool kConstCallable, typename F>
  static HandlerKey of(const F& f) {
    HandlerKey k;
    if constexpr (kConstCallable && std::is_trivially_copyable_v<F> && sizeof(F) <= kMaxBytes) {
      k.type = type_tag<F>();
      if constexpr (!std::is_empty_v<F>) {  // an empty class's one byte is padding
        k.size = static_cast<uint8_t>(sizeof(F));
        std::memcpy(k.bytes.data(), &f, sizeof(F));
      }
    }
    return k;
  }

 private:
  // One distinct address per type. Not const: constants with equal contents may be merged
  // (identical code folding), a mutable object never is.
  template <typename F>
  static const void* type_tag() {
    static char tag = 0;
    return &tag;
  }
};

struct HandlerEntry {
  std::string event;
  EventHandler handler;
};

class HandlerCache;
class HandlerRef;

/// The handlers of one or more sockets, in registration order (one per event). Immutable once
/// shared; a private table (held by one socket only) is edited in place.
///
/// Laid out for the private case, which costs an idle socket what its own vector did: a
/// 24-byte header and the entries. What only shared tables need (their keys, their cache)
/// is a separate block.
class HandlerTable {
 public:
  HandlerTable(const HandlerTable&) = delete;
  HandlerTable& operator=(const HandlerTable&) = delete;

  size_t size() const { return size_; }
  const HandlerEntry& operator[](size_t i) const { return entries_[i]; }
  /// The handler of `event`, or nullptr. A linear search: a socket has a handful of events.
  const HandlerEntry* find(std::string_view event) const {
    for (uint32_t i = 0; i < size_; ++i)
      if (entries_[i].event == event) return &entries_[i];
    return nullptr;
  }
  /// Whether other sockets may hold this table (it lives in a HandlerCache).
  bool shared() const { return shared_ != nullptr; }
  uint32_t refs() const { return refs_; }

 private:
  friend class HandlerCache;
  friend class HandlerRef;
  struct Shared {
    HandlerCache* cache = nullptr;
    size_t hash = 0;                     // of the content
    std::unique_ptr<HandlerKey[]> keys;  // one per entry
  };
  HandlerTable() = default;
  ~HandlerTable() = default;
  const HandlerKey& key(size_t i) const { return shared_->keys[i]; }

  uint32_t refs_ = 0;
  uint32_t size_ = 0;
  std::unique_ptr<Shared> shared_;
  std::unique_ptr<HandlerEntry[]> entries_;
};

/// A counted reference to a table (loop-local: plain counts). Null means "no handlers".
class HandlerRef {
 public:
  HandlerRef() = default;
  HandlerRef(const HandlerRef& o) : t_(o.t_) {
    if (t_ != nullptr) ++t_->refs_;
  }
  HandlerRef(HandlerRef&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  HandlerRef& operator=(HandlerRef o) noexcept {
    std::swap(t_, o.t_);
    return *this;
  }
  ~HandlerRef() { reset(); }

  void reset();
  const HandlerTable* get() const { return t_; }
  const HandlerTable* operator->() const { return t_; }
  explicit operator bool() const { return t_ != nullptr; }
  /// The handler of `event` in the table, or nullptr (also when there is no table).
  const HandlerEntry* find(std::string_view event) const {
    return t_ != nullptr ? t_->find(event) : nullptr;
  }

 private:
  friend class HandlerCache;
  explicit HandlerRef(HandlerTable* t) : t_(t) { ++t_->refs_; }
  HandlerTable* t_ = nullptr;
};

/// The shared tables of one namespace on one loop, indexed by content.
class HandlerCache {
 public:
  static constexpr size_t kMaxTables = 256;

  HandlerCache() = default;
  ~HandlerCache();
  HandlerCache(const HandlerCache&) = delete;
  HandlerCache& operator=(const HandlerCache&) = delete;

  /// The table of `from` with `handler` for `event` — replacing the event's handler if it has
  /// one (its position stays), else appended. `from` is consumed: a private table nobody else
  /// holds is edited in place; from a shared one (or none), a shareable `key` leads to the
  /// shared table with that content (found, or created while fewer than kMaxTables exist),
  /// anything else to a private copy.
  HandlerRef set(HandlerRef from, std::string event, EventHandler handler, const HandlerKey& key);

  /// Shared tables alive.
  size_t size() const { return tables_.size(); }

 private:
  friend class HandlerRef;
  /// The last reference to shared table `t` went away.
  void drop(HandlerTable* t);
  HandlerTable* find(const HandlerTable* from, std::string_view event, const HandlerKey& key,
                     size_t hash) const;

  std::unordered_multimap<size_t, HandlerTable*> tables_;  // content hash -> table
};

}  // namespace sb::socketio
