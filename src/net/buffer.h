#pragma once
// Immutable shared bytes: the basis of serialize-once broadcast.
//
// A Blob is one heap allocation: an atomic reference count, a size, then the bytes. BlobPtr is the
// cross-thread handle (copying it is one atomic increment) — exactly what a broadcast posts to each
// destination loop. On a loop, SharedBuffer is the handle outbound queues hold: it points to a
// LocalBlob whose count is a plain integer, so queueing one frame to 1,000 connections costs 1,000
// non-atomic increments and no allocation. When the last SharedBuffer on a loop goes, the LocalBlob
// drops its one BlobPtr (one atomic decrement per loop). This is Seastar's foreign-pointer idea.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

namespace sb::net {

class alignas(16) Blob {
 public:
  /// Allocates a blob with room for `capacity` bytes, size 0 and one reference.
  static Blob* create(size_t capacity);

  // The payload lives right behind the header, in the same allocation.
  const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(this + 1); }
  uint8_t* mutable_data() { return reinterpret_cast<uint8_t*>(this + 1); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  /// Writable only while exactly one owner holds it (before it is published).
  void set_size(size_t n) { size_ = static_cast<uint32_t>(n); }

  void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void unref();
  bool unique() const { return refs_.load(std::memory_order_acquire) == 1; }

 private:
  Blob() = default;
  std::atomic<uint32_t> refs_{1};
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
};

/// Cross-thread owning handle to a Blob. Copy = one atomic increment.
class BlobPtr {
 public:
  BlobPtr() = default;
  explicit BlobPtr(Blob* adopt) : b_(adopt) {}  // takes over one reference
  static BlobPtr copy_of(std::string_view bytes);
  BlobPtr(const BlobPtr& o) : b_(o.b_) {
    if (b_) b_->ref();
  }
  BlobPtr(BlobPtr&& o) noexcept : b_(std::exchange(o.b_, nullptr)) {}
  BlobPtr& operator=(BlobPtr o) noexcept {
    std::swap(b_, o.b_);
    return *this;
  }
  ~BlobPtr() {
    if (b_) b_->unref();
  }
  Blob* get() const { return b_; }
  Blob* operator->() const { return b_; }
  explicit operator bool() const { return b_ != nullptr; }
  std::string_view view() const {
    return b_ ? std::string_view(reinterpret_cast<const char*>(b_->data()), b_->size())
              : std::string_view();
  }

 private:
  Blob* b_ = nullptr;
};

/// Loop-local, non-atomic reference-counted handle to shared bytes. Never crosses threads:
/// to send bytes to another loop, post a BlobPtr and wrap it there with SharedBuffer(BlobPtr).
class SharedBuffer {
 public:
  SharedBuffer() = default;
  explicit SharedBuffer(BlobPtr blob);
  static SharedBuffer copy_of(std::string_view bytes) {
    return SharedBuffer(BlobPtr::copy_of(bytes));
  }
  /// A writable buffer of `capacity` bytes; fill mutable_data() and set_size() before sharing it.
  static SharedBuffer with_capacity(size_t capacity) {
    return SharedBuffer(BlobPtr(Blob::create(capacity)));
  }

  SharedBuffer(const SharedBuffer& o) : l_(o.l_) {
    if (l_) ++l_->refs;
  }
  SharedBuffer(SharedBuffer&& o) noexcept : l_(std::exchange(o.l_, nullptr)) {}
  SharedBuffer& operator=(SharedBuffer o) noexcept {
    std::swap(l_, o.l_);
    return *this;
  }
  ~SharedBuffer() { release(); }
  /// Drops this handle (empty afterwards). Inline: an outbound queue releases one per chunk sent.
  void release() {
    if (l_ != nullptr && --l_->refs == 0) destroy(l_);
    l_ = nullptr;
  }

  explicit operator bool() const { return l_ != nullptr; }
  const uint8_t* data() const { return l_->blob->data(); }
  size_t size() const { return l_ ? l_->blob->size() : 0; }
  std::string_view view() const { return l_ ? l_->blob.view() : std::string_view(); }
  /// True when this handle is the only owner anywhere: the bytes may still be appended to.
  bool exclusive() const { return l_ && l_->refs == 1 && l_->blob->unique(); }
  uint8_t* mutable_data() { return l_->blob->mutable_data(); }
  size_t capacity() const { return l_ ? l_->blob->capacity() : 0; }
  void set_size(size_t n) { l_->blob->set_size(n); }
  /// The cross-thread handle, for posting to other loops.
  const BlobPtr& blob() const { return l_->blob; }

 private:
  struct LocalBlob {
    BlobPtr blob;
    uint32_t refs = 1;
  };
  static void destroy(LocalBlob* l);
  LocalBlob* l_ = nullptr;
};

}  // namespace sb::net
