#pragma once
// A per-loop index of objects by an id they carry themselves (an Engine.IO sid, a Socket.IO
// socket id): open addressing, linear probing, one pointer per slot.
//
// Why not std::unordered_map<std::string_view, T*>: every entry there is a heap node (next
// pointer, key view, value, cached hash: a 48-byte malloc chunk) plus a bucket pointer —
// ~56 bytes per idle connection per table. Here an entry is an 8-byte slot at a load of at
// most 3/4, so 11–21 bytes, and no allocation per insert. The key is read from the object
// (`KeyOf{}(const T&)`), so it is never stored twice; objects must not move or change id while
// indexed.
//
// Erasing leaves a tombstone, so erase() during for_each() neither skips nor repeats another
// entry; tombstones are dropped when the table is rebuilt on a later insert. Loop-local: no
// locking.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

namespace sb::engineio {

template <typename T, typename KeyOf>
class IdTable {
 public:
  IdTable() = default;
  IdTable(const IdTable&) = delete;
  IdTable& operator=(const IdTable&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  T* find(std::string_view key) const {
    if (size_ == 0) return nullptr;
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      T* v = slots_[i];
      if (v == nullptr) return nullptr;
      if (v != tombstone() && KeyOf{}(*v) == key) return v;
    }
  }

  /// Adds `v`; false (and nothing changes) when its key is already present.
  bool insert(T* v) {
    const std::string_view key = KeyOf{}(*v);
    if (find(key) != nullptr) return false;
    if ((used_ + 1) * 4 > capacity() * 3) rebuild(size_ + 1);
    size_t i = home(key);
    while (slots_[i] != nullptr && slots_[i] != tombstone())
      i = (i + 1) & mask_;
    if (slots_[i] == nullptr) ++used_;
    slots_[i] = v;
    ++size_;
    return true;
  }

  /// Removes the entry with `key`; returns it (nullptr when absent).
  T* erase(std::string_view key) {
    if (size_ == 0) return nullptr;
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      T* v = slots_[i];
      if (v == nullptr) return nullptr;
      if (v != tombstone() && KeyOf{}(*v) == key) {
        slots_[i] = tombstone();
        --size_;
        return v;
      }
    }
  }

  /// Calls f(T&) for every entry. `f` may erase entries (any), but must not insert.
  template <typename F>
  void for_each(F&& f) const {
    const size_t n = capacity();
    for (size_t i = 0; i < n; ++i) {
      T* v = slots_[i];
      if (v != nullptr && v != tombstone()) f(*v);
    }
  }

 private:
  static T* tombstone() {
    // A never-dereferenced marker; no object lives at address 1.
    return reinterpret_cast<T*>(uintptr_t{1});  // NOLINT(performance-no-int-to-ptr)
  }
  size_t capacity() const { return slots_ ? mask_ + 1 : 0; }
  size_t home(std::string_view key) const {
    const size_t h = std::hash<std::string_view>{}(key);
    return h & mask_;
  }

  // New slot array for at least `want` entries at a load of at most 1/2 (so the next rebuild
  // is many inserts away); live entries are re-placed, tombstones dropped.
  void rebuild(size_t want) {
    size_t cap = 16;
    while (cap < want * 2)
      cap *= 2;
    const size_t old_cap = capacity();
    std::unique_ptr<T*[]> old = std::move(slots_);
    slots_ = std::make_unique<T*[]>(cap);  // value-initialized: all nullptr
    mask_ = cap - 1;
    used_ = 0;
    for (size_t i = 0; i < old_cap; ++i) {
      T* v = old[i];
      if (v == nullptr || v == tombstone()) continue;
      size_t j = home(KeyOf{}(*v));
      while (slots_[j] != nullptr)
        j = (j + 1) & mask_;
      slots_[j] = v;
      ++used_;
    }
  }

  std::unique_ptr<T*[]> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;  // live entries
  size_t used_ = 0;  // live entries + tombstones
};

}  // namespace sb::engineio
