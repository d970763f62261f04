#include "net/chunk_queue.h"

#include <algorithm>

namespace sb::net {

void ChunkQueue::release_storage() {
  clear();
  if (data_ != nullptr) slab::deallocate(data_, size_t{cap_} * sizeof(OutChunk));
  data_ = nullptr;
  cap_ = 0;
}

void ChunkQueue::erase_front(size_t n) {
  n = std::min<size_t>(n, size_);
  for (size_t i = 0; i < n; ++i)
    data_[i].~OutChunk();
  for (size_t i = n; i < size_; ++i) {
    new (&data_[i - n]) OutChunk(std::move(data_[i]));
    data_[i].~OutChunk();
  }
  size_ -= static_cast<uint32_t>(n);
}

void ChunkQueue::grow() {
  const uint32_t cap = cap_ == 0 ? 1 : cap_ * 2;
  auto* data = static_cast<OutChunk*>(slab::allocate(size_t{cap} * sizeof(OutChunk)));
  for (uint32_t i = 0; i < size_; ++i) {
    new (&data[i]) OutChunk(std::move(data_[i]));
    data_[i].~OutChunk();
  }
  if (data_ != nullptr) slab::deallocate(data_, size_t{cap_} * sizeof(OutChunk));
  data_ = data;
  cap_ = cap;
}

}  // namespace sb::net
