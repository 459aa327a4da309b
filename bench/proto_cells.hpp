// PROTOTYPE of a proposed change to include/statusz/detail/cells.hpp,
// measured by proto/cells_add_*. Not part of the library.
//
// CellSpace::add() today reads a thread_local ThreadRecord*, then the
// record's directory pointer, then the chunk pointer, then the cell: four
// dependent loads before the add. Caching the directory pointer itself in the
// thread_local (the owning thread is the only one that replaces its
// directory, so it can refresh its own cache when it grows it) removes one.
// Both variants below share everything else (chunk layout, capacity check,
// slow path), so the difference is that one load.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

namespace statusz_bench::proto {

struct Directory {
  std::size_t capacity;
  std::atomic<std::uint64_t>* chunks[64];
};

struct alignas(64) Record {
  std::atomic<Directory*> dir{nullptr};
};

constexpr unsigned kChunkBits = 9;
constexpr std::size_t kChunkMask = (std::size_t{1} << kChunkBits) - 1;

inline Directory* make_dir() {
  auto* d = new Directory();
  d->capacity = 64;
  for (auto& c : d->chunks) {
    c = static_cast<std::atomic<std::uint64_t>*>(
        ::operator new (sizeof(std::atomic<std::uint64_t>) << kChunkBits,
                        std::align_val_t{64}));
    for (std::size_t i = 0; i <= kChunkMask; ++i)
      new (&c[i]) std::atomic<std::uint64_t>(0);
  }
  return d;
}

// Today's shape: thread_local record -> directory -> chunk -> cell.
struct CellsViaRecord {
  static Record*& tls() noexcept {
    static thread_local Record* rec = nullptr;
    return rec;
  }
  [[gnu::noinline]] static void slow(std::uint32_t index, std::uint64_t n) {
    auto* rec = new Record();
    rec->dir.store(make_dir(), std::memory_order_relaxed);
    tls() = rec;
    add(index, n);
  }
  static void add(std::uint32_t index, std::uint64_t n) noexcept {
    Record* rec = tls();
    if (rec != nullptr) {
      Directory* dir = rec->dir.load(std::memory_order_relaxed);
      const std::size_t ci = index >> kChunkBits;
      if (ci < dir->capacity) {
        std::atomic<std::uint64_t>* chunk = dir->chunks[ci];
        if (chunk != nullptr) {
          auto& c = chunk[index & kChunkMask];
          c.store(c.load(std::memory_order_relaxed) + n,
                  std::memory_order_relaxed);
          return;
        }
      }
    }
    slow(index, n);
  }
};

// Proposed: thread_local directory -> chunk -> cell.
struct CellsViaDirectory {
  static Directory*& tls() noexcept {
    static thread_local Directory* dir = nullptr;
    return dir;
  }
  [[gnu::noinline]] static void slow(std::uint32_t index, std::uint64_t n) {
    tls() = make_dir();
    add(index, n);
  }
  static void add(std::uint32_t index, std::uint64_t n) noexcept {
    Directory* dir = tls();
    const std::size_t ci = index >> kChunkBits;
    if (dir != nullptr && ci < dir->capacity) {
      std::atomic<std::uint64_t>* chunk = dir->chunks[ci];
      if (chunk != nullptr) {
        auto& c = chunk[index & kChunkMask];
        c.store(c.load(std::memory_order_relaxed) + n,
                std::memory_order_relaxed);
        return;
      }
    }
    slow(index, n);
  }
};

}  // namespace statusz_bench::proto
