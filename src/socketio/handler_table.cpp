#include "socketio/handler_table.h"

namespace sb::socketio {
namespace {

size_t mix(size_t h, size_t v) {
  return h ^ (v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

size_t entry_hash(std::string_view event, const HandlerKey& k) {
  size_t h = std::hash<std::string_view>{}(event);
  h = mix(h, std::hash<const void*>{}(k.type));
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): hashing raw bytes
  const std::string_view bytes(reinterpret_cast<const char*>(k.bytes.data()), k.size);
  return mix(h, std::hash<std::string_view>{}(bytes));
}

// The content hash of shared table `from` (or none) with (event, key) set, computed without
// building that table.
size_t content_hash(const HandlerTable* from, std::string_view event, const HandlerKey& key,
                    const HandlerKey* from_keys) {
  size_t h = 0;
  bool replaced = false;
  const size_t n = from != nullptr ? from->size() : 0;
  for (size_t i = 0; i < n; ++i) {
    const HandlerEntry& e = (*from)[i];
    if (e.event == event) {
      replaced = true;
      h = mix(h, entry_hash(event, key));
    } else {
      h = mix(h, entry_hash(e.event, from_keys[i]));
    }
  }
  if (!replaced) h = mix(h, entry_hash(event, key));
  return h;
}

// Where `event` goes in `t`: its entry, or one past the end.
size_t slot_of(const HandlerTable* t, std::string_view event) {
  const size_t n = t != nullptr ? t->size() : 0;
  for (size_t i = 0; i < n; ++i)
    if ((*t)[i].event == event) return i;
  return n;
}

}  // namespace

void HandlerRef::reset() {
  HandlerTable* t = std::exchange(t_, nullptr);
  if (t == nullptr || --t->refs_ > 0) return;
  if (t->shared()) {
    t->shared_->cache->drop(t);
  } else {
    delete t;  // NOLINT(cppcoreguidelines-owning-memory): the last reference owned it
  }
}

HandlerCache::~HandlerCache() {
  // Sockets are freed before their namespace; should a reference outlive the cache anyway,
  // its table becomes private and is freed by that last reference.
  for (auto& [hash, t] : tables_)
    t->shared_.reset();
}

HandlerTable* HandlerCache::find(const HandlerTable* from, std::string_view event,
                                 const HandlerKey& key, size_t hash) const {
  const size_t n = from != nullptr ? from->size() : 0;
  const size_t at = slot_of(from, event);
  const size_t want = at < n ? n : n + 1;
  auto [it, end] = tables_.equal_range(hash);
  for (; it != end; ++it) {
    const HandlerTable* t = it->second;
    if (t->size() != want) continue;
    bool same = true;
    for (size_t i = 0; i < want && same; ++i) {
      if (i == at) {
        same = (*t)[i].event == event && t->key(i) == key;
      } else {
        same = (*t)[i].event == (*from)[i].event && t->key(i) == from->key(i);
      }
    }
    if (same) return it->second;
  }
  return nullptr;
}

HandlerRef HandlerCache::set(HandlerRef from, std::string event, EventHandler handler,
                             const HandlerKey& key) {
  HandlerTable* t = from.t_;
  const size_t n = t != nullptr ? t->size() : 0;
  const size_t at = slot_of(t, event);
  if (t != nullptr && !t->shared() && t->refs_ == 1) {
    // Private and only ours (no dispatch in progress holds it): edit in place.
    if (at < n) {
      t->entries_[at].handler = std::move(handler);
      return from;
    }
    // Exactly one more: an idle socket's table keeps no growth slack.
    auto grown = std::make_unique<HandlerEntry[]>(n + 1);
    for (size_t i = 0; i < n; ++i)
      grown[i] = std::move(t->entries_[i]);
    grown[n] = HandlerEntry{std::move(event), std::move(handler)};
    t->entries_ = std::move(grown);
    t->size_ = static_cast<uint32_t>(n + 1);
    return from;
  }
  // A shared table holds shareable entries only, so the new content is shareable exactly
  // when the new handler is.
  const bool shareable = key.shareable() && (t == nullptr || t->shared());
  const HandlerKey* from_keys = shareable && t != nullptr ? t->shared_->keys.get() : nullptr;
  size_t hash = 0;
  if (shareable) {
    hash = content_hash(t, event, key, from_keys);
    if (HandlerTable* found = find(t, event, key, hash)) return HandlerRef(found);
  }
  const size_t size = at < n ? n : n + 1;
  auto* c = new HandlerTable;  // NOLINT(cppcoreguidelines-owning-memory): owned by its refs
  c->entries_ = std::make_unique<HandlerEntry[]>(size);
  c->size_ = static_cast<uint32_t>(size);
  for (size_t i = 0; i < n; ++i)
    if (i != at) c->entries_[i] = (*t)[i];
  c->entries_[at] = HandlerEntry{std::move(event), std::move(handler)};
  if (shareable && tables_.size() < kMaxTables) {
    c->shared_ = std::make_unique<HandlerTable::Shared>();
    c->shared_->cache = this;
    c->shared_->hash = hash;
    c->shared_->keys = std::make_unique<HandlerKey[]>(size);
    for (size_t i = 0; i < n; ++i)
      c->shared_->keys[i] = from_keys[i];
    c->shared_->keys[at] = key;
    tables_.emplace(hash, c);
  }
  return HandlerRef(c);
}

void HandlerCache::drop(HandlerTable* t) {
  auto [it, end] = tables_.equal_range(t->shared_->hash);
  for (; it != end; ++it) {
    if (it->second == t) {
      tables_.erase(it);
      break;
    }
  }
  delete t;  // NOLINT(cppcoreguidelines-owning-memory): the last reference owned it
}

}  // namespace sb::socketio
