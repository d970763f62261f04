#include "common/slab_pool.h"

#include <atomic>
#include <cassert>
#include <cstdlib>
#include <mutex>
#include <string_view>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define SB_SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SB_SLAB_ASAN 1
#endif
#endif
#ifdef SB_SLAB_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace sb::slab {
namespace {

constexpr size_t kClasses = kMaxBlock / kGranularity;  // class i: blocks of (i + 1) * 8 bytes

// Freed blocks are poisoned under ASan, so a use after free is still reported.
void poison(void* p, size_t n) {
#ifdef SB_SLAB_ASAN
  ASAN_POISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}
void unpoison(void* p, size_t n) {
#ifdef SB_SLAB_ASAN
  ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
  (void)p;
  (void)n;
#endif
}

struct FreeBlock {
  FreeBlock* next;
};

struct Pools;

// The start of every slab: which pool and size class its blocks belong to.
struct alignas(16) SlabHeader {
  Pools* owner;
  SlabHeader* next;  // the owner's slabs
  size_t cls;
};
static_assert(sizeof(SlabHeader) % kGranularity == 0);

struct SizeClass {
  FreeBlock* free = nullptr;
  char* bump = nullptr;  // the uncarved rest of the newest slab
  char* end = nullptr;
};

// One thread's pools (every size class). Only the owner thread touches `classes`, `slabs` and
// `live`; other threads only push onto `remote`. A pool whose thread exited stays registered
// (its slabs may still hold live objects) and is adopted by the next thread that needs one.
struct Pools {
  SizeClass classes[kClasses];
  SlabHeader* slabs = nullptr;
  size_t slab_count = 0;
  size_t live = 0;
  std::atomic<FreeBlock*> remote{nullptr};  // blocks freed by other threads
  std::atomic<bool> orphaned{false};

  void* alloc(size_t cls);
  void free_local(void* p, size_t cls);
  void free_remote(void* p);
  void drain_remote();
  bool new_slab(size_t cls);
};

// Every pool ever created (they are never destroyed: this keeps them reachable for leak
// checkers and lets orphaned pools be reused), and the orphaned ones.
struct Registry {
  std::mutex mu;
  std::vector<Pools*> all;
  std::vector<Pools*> orphans;
};
Registry& registry() {
  static auto* r = new Registry;  // never destroyed: threads may exit after static destruction
  return *r;
}

Pools* adopt_pool() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  Pools* p = nullptr;
  if (!r.orphans.empty()) {
    p = r.orphans.back();
    r.orphans.pop_back();
  } else {
    p = new Pools;
    r.all.push_back(p);
  }
  p->orphaned.store(false, std::memory_order_relaxed);
  p->drain_remote();
  return p;
}

thread_local Pools* tl_pools = nullptr;  // trivially destructible: usable during thread exit
thread_local bool tl_exited = false;

// Orphans the thread's pool when the thread exits.
struct ExitGuard {
  ExitGuard() = default;
  ExitGuard(const ExitGuard&) = delete;
  ExitGuard& operator=(const ExitGuard&) = delete;
  ~ExitGuard() {
    Pools* p = tl_pools;
    tl_pools = nullptr;
    tl_exited = true;
    if (p == nullptr) return;
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    p->drain_remote();
    p->orphaned.store(true, std::memory_order_release);
    r.orphans.push_back(p);
  }
};
thread_local ExitGuard tl_guard;

Pools* thread_pools() {
  if (tl_pools == nullptr) {
    tl_pools = adopt_pool();
    (void)&tl_guard;  // odr-use: registers the guard's destructor for this thread
  }
  return tl_pools;
}

bool pool_disabled() {
  // SB_SLAB_POOL=off sends every block to malloc: for massif/heaptrack attribution by call site.
  static const bool off = [] {
    const char* v = std::getenv("SB_SLAB_POOL");
    return v != nullptr && (std::string_view(v) == "off" || std::string_view(v) == "0");
  }();
  return off;
}

SlabHeader* header_of(void* p) {
  // Slabs are kSlabBytes-aligned: masking a block's address gives its slab (the point of it).
  // NOLINTNEXTLINE(performance-no-int-to-ptr)
  return reinterpret_cast<SlabHeader*>(reinterpret_cast<uintptr_t>(p) & ~(kSlabBytes - 1));
}

bool Pools::new_slab(size_t cls) {
  void* mem = std::aligned_alloc(kSlabBytes, kSlabBytes);
  if (mem == nullptr) return false;
  auto* h = new (mem) SlabHeader{this, slabs, cls};
  slabs = h;
  ++slab_count;
  SizeClass& c = classes[cls];
  c.bump = reinterpret_cast<char*>(h + 1);
  c.end = reinterpret_cast<char*>(mem) + kSlabBytes;
  poison(c.bump, static_cast<size_t>(c.end - c.bump));
  return true;
}

void* Pools::alloc(size_t cls) {
  const size_t size = (cls + 1) * kGranularity;
  SizeClass& c = classes[cls];
  if (c.free == nullptr && c.end - c.bump < static_cast<std::ptrdiff_t>(size)) {
    drain_remote();
    if (c.free == nullptr && !new_slab(cls)) return nullptr;
  }
  void* p = nullptr;
  if (c.free != nullptr) {
    FreeBlock* b = c.free;
    unpoison(b, size);
    c.free = b->next;
    p = b;
  } else {
    p = c.bump;
    c.bump += size;
    unpoison(p, size);
  }
  ++live;
  return p;
}

void Pools::free_local(void* p, size_t cls) {
  SizeClass& c = classes[cls];
  auto* b = static_cast<FreeBlock*>(p);
  b->next = c.free;
  c.free = b;
  poison(b, (cls + 1) * kGranularity);
  --live;
}

void Pools::free_remote(void* p) {
  auto* b = static_cast<FreeBlock*>(p);
  FreeBlock* head = remote.load(std::memory_order_relaxed);
  do {
    b->next = head;
  } while (
      !remote.compare_exchange_weak(head, b, std::memory_order_release, std::memory_order_relaxed));
}

void Pools::drain_remote() {
  FreeBlock* b = remote.exchange(nullptr, std::memory_order_acquire);
  while (b != nullptr) {
    FreeBlock* next = b->next;
    free_local(b, header_of(b)->cls);
    b = next;
  }
}

}  // namespace

void* allocate(size_t n) {
  if (n > kMaxBlock || pool_disabled()) return ::operator new(n);
  const size_t cls = n == 0 ? 0 : (n - 1) / kGranularity;
  void* p = nullptr;
  if (!tl_exited) [[likely]] {
    p = thread_pools()->alloc(cls);
  } else {
    // A thread-local destructor allocating after this thread's pool was orphaned: borrow an
    // orphaned pool under the registry lock and leave it orphaned.
    Pools* pool = adopt_pool();
    p = pool->alloc(cls);
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    pool->orphaned.store(true, std::memory_order_release);
    r.orphans.push_back(pool);
  }
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void deallocate(void* p, size_t n) noexcept {
  if (p == nullptr) return;
  if (n > kMaxBlock || pool_disabled()) {
    ::operator delete(p);  // unsized: clang < 19 declares no sized global delete by default
    return;
  }
  SlabHeader* h = header_of(p);
  if (h->owner == tl_pools) [[likely]] {
    h->owner->free_local(p, h->cls);
    return;
  }
  // Objects live and die on their loop's thread; the only other frees are of a thread that has
  // exited (a loop destroyed by the main thread at shutdown). Still safe if broken: the block
  // waits on the owner's remote list until the owner next runs short.
  assert(h->owner->orphaned.load(std::memory_order_relaxed) &&
         "slab block freed on another thread than its live owner");
  h->owner->free_remote(p);
}

Stats thread_stats() {
  Stats s;
  if (tl_pools != nullptr) {
    s.live_blocks = tl_pools->live;
    s.slabs = tl_pools->slab_count;
  }
  return s;
}

}  // namespace sb::slab
