// detail::CellSpace: per-thread cumulative counters, the storage behind
// Meter::mark() and KeyedCounter::inc().
//
// Every counting object (a meter, a key of a keyed counter) reserves one cell
// index. Every thread that counts owns a ThreadRecord holding one 8-byte cell
// per index, in chunks of kChunkSize. Only the owning thread writes its cells,
// so adding is a relaxed load + store on memory no other thread writes: no
// lock, no read-modify-write, no shared cache line between writers. A reader
// sums the cell of that index over all records.
//
// Records are never freed: when a thread exits, its record (and its counts)
// is handed to the next new thread, so counts survive their threads and memory
// is bounded by the peak number of concurrent counting threads. Releasing an
// index zeroes its cells in every record before the index is reused.
//
// Cost: add() is ~6 instructions after a thread's first touch of a chunk; the
// first touch allocates (a record, a directory, a chunk). sum() is O(records).
// Thread-safety: add() must only race with sum() and with other indices'
// reserve()/release(); release(i) must not race with add(i) (the owner of the
// index is being destroyed).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

namespace statusz::detail {

class CellSpace {
 public:
  using Cell = std::atomic<std::uint64_t>;
  static constexpr unsigned kChunkBits = 9;  // 512 cells = 4 KiB per chunk
  static constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;
  static constexpr std::size_t kChunkMask = kChunkSize - 1;

  static CellSpace& instance() {
    // Leaked on purpose: threads may exit (and touch it) after static
    // destructors have run.
    static auto* space = new CellSpace();
    return *space;
  }

  // Adds n to this thread's cell for `index`.
  static void add(std::uint32_t index, std::uint64_t n) noexcept {
    ThreadRecord* rec = current_record();
    if (rec != nullptr) {
      Directory* dir = rec->dir.load(std::memory_order_relaxed);
      const std::size_t chunk_index = index >> kChunkBits;
      if (chunk_index < dir->capacity) {
        Cell* chunk =
            dir->chunks()[chunk_index].load(std::memory_order_relaxed);
        if (chunk != nullptr) {
          Cell& c = chunk[index & kChunkMask];
          c.store(c.load(std::memory_order_relaxed) + n,
                  std::memory_order_relaxed);
          return;
        }
      }
    }
    instance().add_slow(index, n);
  }

  // The total of `index` over every thread that ever counted it.
  std::uint64_t sum(std::uint32_t index) const noexcept {
    std::uint64_t total = 0;
    for_each_cell(index,
                  [&](Cell& c) { total += c.load(std::memory_order_relaxed); });
    return total;
  }

  std::uint32_t reserve() {
    std::lock_guard<std::mutex> g(mu_);
    if (!free_.empty()) {
      std::uint32_t i = free_.back();
      free_.pop_back();
      return i;
    }
    return next_index_++;
  }

  void release(std::uint32_t index) noexcept {
    std::lock_guard<std::mutex> g(mu_);
    for_each_cell(index,
                  [](Cell& c) { c.store(0, std::memory_order_relaxed); });
    try {
      free_.push_back(index);
    } catch (...) {
      // Out of memory: the index is leaked, nothing else.
    }
  }

  // Number of thread records (peak concurrent counting threads).
  std::size_t records() const noexcept {
    std::size_t n = 0;
    for (ThreadRecord* rec = head_.load(std::memory_order_acquire);
         rec != nullptr; rec = rec->next) {
      ++n;
    }
    return n;
  }

 private:
  // A header followed in the same allocation by `capacity` chunk pointers.
  struct Directory {
    std::size_t capacity;
    Directory* retired;  // the smaller directory this one replaced
    std::atomic<Cell*>* chunks() noexcept {
      return reinterpret_cast<std::atomic<Cell*>*>(this + 1);
    }
  };

  struct alignas(64) ThreadRecord {
    std::atomic<Directory*> dir{nullptr};
    ThreadRecord* next = nullptr;  // immutable once published
    std::atomic<bool> in_use{true};
  };

  // Releases this thread's record at thread exit so another thread adopts it.
  struct RecordOwner {
    ThreadRecord* rec = nullptr;
    ~RecordOwner() {
      if (rec != nullptr) {
        current_record() = nullptr;
        rec->in_use.store(false, std::memory_order_release);
      }
    }
  };

  CellSpace() = default;

  // Calls f(cell) for the cell of `index` in every record that has one.
  template <class F>
  void for_each_cell(std::uint32_t index, F&& f) const noexcept {
    const std::size_t chunk_index = index >> kChunkBits;
    for (ThreadRecord* rec = head_.load(std::memory_order_acquire);
         rec != nullptr; rec = rec->next) {
      Directory* dir = rec->dir.load(std::memory_order_acquire);
      if (chunk_index >= dir->capacity) continue;
      Cell* chunk = dir->chunks()[chunk_index].load(std::memory_order_acquire);
      if (chunk != nullptr) f(chunk[index & kChunkMask]);
    }
  }

  static ThreadRecord*& current_record() noexcept {
    static thread_local ThreadRecord* rec = nullptr;
    return rec;
  }

  static Directory* make_directory(std::size_t capacity, Directory* from) {
    void* raw = ::operator new(sizeof(Directory) +
                               capacity * sizeof(std::atomic<Cell*>));
    auto* dir = static_cast<Directory*>(raw);
    dir->capacity = capacity;
    dir->retired = from;
    for (std::size_t i = 0; i < capacity; ++i) {
      Cell* c = nullptr;
      if (from != nullptr && i < from->capacity) {
        c = from->chunks()[i].load(std::memory_order_relaxed);
      }
      new (dir->chunks() + i) std::atomic<Cell*>(c);
    }
    return dir;
  }

  static Cell* make_chunk() {
    auto* chunk = static_cast<Cell*>(
        ::operator new (kChunkSize * sizeof(Cell), std::align_val_t{64}));
    for (std::size_t i = 0; i < kChunkSize; ++i) new (&chunk[i]) Cell(0);
    return chunk;
  }

  ThreadRecord* acquire_record() {
    static thread_local RecordOwner owner;
    for (ThreadRecord* rec = head_.load(std::memory_order_acquire);
         rec != nullptr; rec = rec->next) {
      bool expected = false;
      if (!rec->in_use.load(std::memory_order_relaxed) &&
          rec->in_use.compare_exchange_strong(expected, true,
                                              std::memory_order_acquire)) {
        owner.rec = rec;
        return rec;
      }
    }
    auto* rec = new ThreadRecord();
    rec->dir.store(make_directory(8, nullptr), std::memory_order_relaxed);
    std::lock_guard<std::mutex> g(mu_);
    rec->next = head_.load(std::memory_order_relaxed);
    head_.store(rec, std::memory_order_release);
    owner.rec = rec;
    return rec;
  }

  void add_slow(std::uint32_t index, std::uint64_t n) {
    ThreadRecord*& rec = current_record();
    if (rec == nullptr) rec = acquire_record();
    const std::size_t chunk_index = index >> kChunkBits;
    Directory* dir = rec->dir.load(std::memory_order_relaxed);
    if (chunk_index >= dir->capacity) {
      std::size_t capacity = dir->capacity;
      while (capacity <= chunk_index) capacity *= 2;
      // Readers may still hold the old directory: it is kept (retired), and
      // freed never; directories double, so retired ones cost at most as
      // much as the live one.
      dir = make_directory(capacity, dir);
      rec->dir.store(dir, std::memory_order_release);
    }
    Cell* chunk = dir->chunks()[chunk_index].load(std::memory_order_relaxed);
    if (chunk == nullptr) {
      chunk = make_chunk();
      dir->chunks()[chunk_index].store(chunk, std::memory_order_release);
    }
    Cell& c = chunk[index & kChunkMask];
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  std::atomic<ThreadRecord*> head_{nullptr};
  std::mutex mu_;
  std::vector<std::uint32_t> free_;
  std::uint32_t next_index_ = 0;
};

// One reserved cell index, released on destruction.
class CellIndex {
 public:
  CellIndex() : index_(CellSpace::instance().reserve()) {}
  ~CellIndex() { CellSpace::instance().release(index_); }
  CellIndex(const CellIndex&) = delete;
  CellIndex& operator=(const CellIndex&) = delete;

  void add(std::uint64_t n) const noexcept { CellSpace::add(index_, n); }
  std::uint64_t sum() const noexcept {
    return CellSpace::instance().sum(index_);
  }
  std::uint32_t index() const noexcept { return index_; }

 private:
  std::uint32_t index_;
};

}  // namespace statusz::detail
