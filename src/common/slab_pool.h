#pragma once
// Per-thread slab pools for the small fixed-size objects every connection owns (the TCP
// connection, the WebSocket session, the Engine.IO socket, ...).
//
// Why: malloc costs 8–16 bytes of header and rounding per object, and thousands of idle
// connections each hold several such objects for their whole life. Here a block is exactly the
// object's size rounded up to 8 bytes, carved from 64 KiB slabs; a freed block goes on its size
// class's intrusive free list, and the next allocation of that size takes it back. No locks: a
// connection's objects are created and destroyed on their loop's thread, so each thread has its
// own pools (asserted in debug builds).
//
// How a block finds its pool on free: slabs are 64 KiB-aligned, and each begins with a header
// naming the pool that carved it, so deallocate() needs no thread-local lookup and a block
// freed on another thread after its own thread exited (a loop destroyed by the main thread at
// shutdown) still returns to the right pool.
//
// Memory is bounded by the peak: slabs are never returned to the OS (a freed block is only
// reused by the same size class). When a thread exits, its pools are kept, orphaned, with
// whatever blocks are still live in them, and the next thread that needs pools adopts them
// (a server's loops are started again, tests start many threads): the number of pools is the
// peak number of threads alive at once. Only the blocks handed out are touched, so a slab's
// untouched tail costs no resident memory.
//
// Use: derive from SlabAllocated (an empty base: no size cost). `new` and `delete` of the
// derived type (make_unique, unique_ptr, a virtual destructor through a base pointer) go
// through the pool of the creating thread, sized for the most-derived type.

#include <cstddef>
#include <cstdint>
#include <new>

namespace sb::slab {

/// Blocks are multiples of this (and aligned to it).
inline constexpr size_t kGranularity = 8;
/// Larger objects go to the global operator new.
inline constexpr size_t kMaxBlock = 1024;
inline constexpr size_t kSlabBytes = 64 * 1024;

/// A block of at least `n` bytes (n > 0), 8-byte aligned, from this thread's pool for its
/// size class (or operator new above kMaxBlock). Never null: throws std::bad_alloc like new.
void* allocate(size_t n);
/// Returns a block from allocate(n), with the same `n`.
void deallocate(void* p, size_t n) noexcept;

/// Statistics of the calling thread's pools (tests and diagnostics).
struct Stats {
  size_t live_blocks = 0;  // handed out, not yet returned (by this thread's pools)
  size_t slabs = 0;        // slabs held by this thread's pools
};
Stats thread_stats();

/// Base class for objects allocated from the pools. Over-aligned types (alignof > 8) cannot use
/// it: their aligned `new` is deleted, so they fail to compile instead of being misaligned.
class SlabAllocated {
 public:
  static void* operator new(size_t n) { return allocate(n); }
  static void operator delete(void* p, size_t n) noexcept { deallocate(p, n); }
  static void* operator new(size_t n, std::align_val_t a) = delete;
  static void operator delete(void* p, size_t n, std::align_val_t a) = delete;

 protected:
  SlabAllocated() = default;
  ~SlabAllocated() = default;
};

}  // namespace sb::slab
