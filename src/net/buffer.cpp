#include "net/buffer.h"

#include <cstdlib>
#include <cstring>
#include <new>

namespace sb::net {

Blob* Blob::create(size_t capacity) {
  void* mem = std::malloc(sizeof(Blob) + capacity);
  if (mem == nullptr) throw std::bad_alloc();  // out of memory is fatal, not a data-path error
  Blob* b = new (mem) Blob();
  b->capacity_ = static_cast<uint32_t>(capacity);
  return b;
}

void Blob::unref() {
  // acq_rel: the thread that frees must see every other thread's reads of the bytes completed.
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    this->~Blob();
    std::free(this);
  }
}

BlobPtr BlobPtr::copy_of(std::string_view bytes) {
  Blob* b = Blob::create(bytes.size());
  if (!bytes.empty()) std::memcpy(b->mutable_data(), bytes.data(), bytes.size());
  b->set_size(bytes.size());
  return BlobPtr(b);
}

SharedBuffer::SharedBuffer(BlobPtr blob) : l_(blob ? new LocalBlob{std::move(blob), 1} : nullptr) {}

void SharedBuffer::destroy(LocalBlob* l) {
  delete l;
}

}  // namespace sb::net
