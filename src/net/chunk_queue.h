#pragma once
// A connection's outbound chunks: a growable array like std::vector, but 16 bytes instead of
// 24 (32-bit size and capacity) with its storage from the per-thread slab pool (exact size, no
// malloc header) — every connection holds one for its whole life, and after its first write
// the storage of at least one chunk too. The broadcast path pushes one chunk per receiver per
// message, so push_back stays inline and never allocates once the capacity is there.

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

#include "common/slab_pool.h"
#include "net/buffer.h"

namespace sb::net {

/// A slice of shared bytes waiting to be sent.
struct OutChunk {
  SharedBuffer buf;
  uint32_t offset;
  uint32_t length;
};

class ChunkQueue {
 public:
  ChunkQueue() = default;
  ChunkQueue(const ChunkQueue&) = delete;
  ChunkQueue& operator=(const ChunkQueue&) = delete;
  ~ChunkQueue() { release_storage(); }

  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  bool empty() const { return size_ == 0; }
  OutChunk& operator[](size_t i) { return data_[i]; }
  const OutChunk& operator[](size_t i) const { return data_[i]; }
  OutChunk& back() { return data_[size_ - 1]; }

  /// Appends a chunk built in place (one reference taken, no temporary to move and destroy:
  /// this runs once per receiver of a broadcast).
  void emplace_back(const SharedBuffer& buf, uint32_t offset, uint32_t length) {
    if (size_ == cap_) [[unlikely]]
      grow();
    new (&data_[size_]) OutChunk{buf, offset, length};
    ++size_;
  }
  void emplace_back(SharedBuffer&& buf, uint32_t offset, uint32_t length) {
    if (size_ == cap_) [[unlikely]]
      grow();
    new (&data_[size_]) OutChunk{std::move(buf), offset, length};
    ++size_;
  }
  /// Drops every chunk; the storage is kept for the next writes.
  void clear() {
    for (uint32_t i = 0; i < size_; ++i)
      data_[i].~OutChunk();
    size_ = 0;
  }
  /// Drops every chunk and frees the storage.
  void release_storage();
  /// Drops the first `n` chunks (n <= size()), moving the rest to the front.
  void erase_front(size_t n);

 private:
  void grow();

  OutChunk* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t cap_ = 0;
};

}  // namespace sb::net
