// Replaced global operator new/delete that count requested bytes (see
// alloc_count.hpp). Layout of a block:
//
//   raw ... [Header][user bytes]
//           ^ user - 16
//
// For the default alignment (16 on x86-64) raw + 16 is the user pointer; for
// an over-aligned request the block comes from aligned_alloc and the user
// pointer is raw + alignment, so the header sits in the padding before it.
#include "alloc_count.hpp"

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>

namespace statusz_bench {
namespace {

struct Header {
  std::size_t size;    // requested bytes
  std::size_t offset;  // user pointer - raw pointer
};
static_assert(sizeof(Header) == 16, "the header must keep 16-byte alignment");

constexpr std::size_t kDefaultAlign = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
static_assert(kDefaultAlign >= sizeof(Header), "header must fit the alignment");

std::atomic<bool> g_counting{false};
std::atomic<std::int64_t> g_live{0};
std::atomic<std::int64_t> g_allocs{0};
std::atomic<std::int64_t> g_frees{0};
std::atomic<std::int64_t> g_allocated{0};

void* allocate(std::size_t size, std::size_t align) noexcept {
  std::size_t offset = sizeof(Header);
  void* raw = nullptr;
  if (align <= kDefaultAlign) {
    raw = std::malloc(size + offset);
  } else {
    offset = align;  // >= 32, so the header fits before the user pointer
    std::size_t total = size + align;
    total = (total + align - 1) / align * align;  // aligned_alloc's rule
    raw = std::aligned_alloc(align, total);
  }
  if (raw == nullptr) return nullptr;
  char* user = static_cast<char*>(raw) + offset;
  auto* h = reinterpret_cast<Header*>(user - sizeof(Header));
  h->size = size;
  h->offset = offset;
  if (g_counting.load(std::memory_order_relaxed)) {
    g_live.fetch_add(static_cast<std::int64_t>(size),
                     std::memory_order_relaxed);
    g_allocs.fetch_add(1, std::memory_order_relaxed);
    g_allocated.fetch_add(static_cast<std::int64_t>(size),
                          std::memory_order_relaxed);
  }
  return user;
}

void deallocate(void* p) noexcept {
  if (p == nullptr) return;
  char* user = static_cast<char*>(p);
  const auto* h = reinterpret_cast<const Header*>(user - sizeof(Header));
  const std::size_t size = h->size;
  const std::size_t offset = h->offset;
  if (g_counting.load(std::memory_order_relaxed)) {
    g_live.fetch_sub(static_cast<std::int64_t>(size),
                     std::memory_order_relaxed);
    g_frees.fetch_add(1, std::memory_order_relaxed);
  }
  std::free(user - offset);
}

void* allocate_or_throw(std::size_t size, std::size_t align) {
  for (;;) {
    if (void* p = allocate(size, align)) return p;
    std::new_handler handler = std::get_new_handler();
    if (handler == nullptr) throw std::bad_alloc();
    handler();
  }
}

}  // namespace

void start_counting() noexcept {
  g_live.store(0, std::memory_order_relaxed);
  g_allocs.store(0, std::memory_order_relaxed);
  g_frees.store(0, std::memory_order_relaxed);
  g_allocated.store(0, std::memory_order_relaxed);
  g_counting.store(true, std::memory_order_seq_cst);
}

AllocStats current_counts() noexcept {
  AllocStats s;
  s.live_bytes = g_live.load(std::memory_order_relaxed);
  s.allocations = g_allocs.load(std::memory_order_relaxed);
  s.frees = g_frees.load(std::memory_order_relaxed);
  s.allocated_bytes = g_allocated.load(std::memory_order_relaxed);
  return s;
}

AllocStats stop_counting() noexcept {
  g_counting.store(false, std::memory_order_seq_cst);
  return current_counts();
}

}  // namespace statusz_bench

using statusz_bench::allocate;
using statusz_bench::allocate_or_throw;
using statusz_bench::deallocate;
using statusz_bench::kDefaultAlign;

// clang-format off
void* operator new(std::size_t n) { return allocate_or_throw(n, kDefaultAlign); }
void* operator new[](std::size_t n) { return allocate_or_throw(n, kDefaultAlign); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return allocate(n, kDefaultAlign); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return allocate(n, kDefaultAlign); }
void* operator new(std::size_t n, std::align_val_t a) { return allocate_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return allocate_or_throw(n, static_cast<std::size_t>(a)); }
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return allocate(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept { return allocate(n, static_cast<std::size_t>(a)); }

void operator delete(void* p) noexcept { deallocate(p); }
void operator delete[](void* p) noexcept { deallocate(p); }
void operator delete(void* p, std::size_t) noexcept { deallocate(p); }
void operator delete[](void* p, std::size_t) noexcept { deallocate(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete(void* p, std::align_val_t) noexcept { deallocate(p); }
void operator delete[](void* p, std::align_val_t) noexcept { deallocate(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { deallocate(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { deallocate(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { deallocate(p); }
// clang-format on
