// detail::CellSpace: per-thread cumulative counters, the storage behind
// Meter::mark(), Counter::inc() and KeyedCounter::inc().
//
// Every counting object (a meter, a counter, a key of a keyed counter)
// reserves one cell index. Every thread that counts owns a ThreadRecord whose
// cells form one flat array of 8-byte cells, indexed directly by the cell
// index; the array's address and length are cached in a trivially
// destructible thread_local, so add() is: compare the index with the cached
// length, load the cell, add, store. Two dependent loads (the thread_local
// array pointer, then the cell), no lock, no read-modify-write, nothing
// written that another thread writes (arrays are 64-byte aligned and padded to
// whole cache lines). The first add() of a thread, and an add() to an index
// beyond its array, take the slow path: it claims a record and grows its array
// to the next power of two under the space's mutex (copying the cells). A
// reader sums the cell of an index over all records.
//
// Lifetime: records are never freed. When a thread exits, its record (and its
// counts) is handed to the next thread that starts counting, so the number of
// records is the peak number of threads counting at once. A thread that counts
// after its own record was handed back (a thread_local object whose destructor
// marks a meter) borrows a free record for that one add() and returns it at
// once. An array replaced by a bigger one is freed as soon as no reader is in
// flight (readers announce themselves in a counter only readers write).
// Releasing an index zeroes its cells in every record before it is reused.
//
// fork(): a lock hook of detail::ForkGate holds the space's mutex across
// fork() (taken after the gate has drained, so a thread inside a section that
// reserves a cell is never waited for while the mutex is held), so the child
// never inherits it locked; in the child, the records of the threads
// that did not survive the fork become free for the child's new threads, and
// keep their counts: counts in the child start from what the parent had at the
// fork.
//
// Memory: 8 to 16 bytes per index per record (arrays double); a thread that
// counts only a high index still gets an array up to that index.
// Thread-safety: add() may race with sum() and with other indices'
// reserve()/release(); release(i) must not race with add(i) (the owner of the
// index is being destroyed).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

#include "fork.hpp"

#if defined(__GNUC__) || defined(__clang__)
#define STATUSZ_ALWAYS_INLINE inline __attribute__((always_inline))
#define STATUSZ_NOINLINE_COLD __attribute__((noinline, cold))
#define STATUSZ_LIKELY(x) __builtin_expect(!!(x), 1)
#define STATUSZ_UNLIKELY(x) __builtin_expect(!!(x), 0)
#elif defined(_MSC_VER)
#define STATUSZ_ALWAYS_INLINE __forceinline
#define STATUSZ_NOINLINE_COLD __declspec(noinline)
#define STATUSZ_LIKELY(x) (x)
#define STATUSZ_UNLIKELY(x) (x)
#else
#define STATUSZ_ALWAYS_INLINE inline
#define STATUSZ_NOINLINE_COLD
#define STATUSZ_LIKELY(x) (x)
#define STATUSZ_UNLIKELY(x) (x)
#endif

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STATUSZ_HAS_TSAN 1
#endif
#endif
#ifndef STATUSZ_HAS_TSAN
#define STATUSZ_HAS_TSAN 0
#endif

namespace statusz::detail {

class CellSpace {
 public:
  using Cell = std::atomic<std::uint64_t>;
  // The smallest array a thread gets: 8 cells, one cache line.
  static constexpr std::size_t kMinCells = 8;

  static CellSpace& instance() {
    // Leaked on purpose: threads may exit (and touch it) after static
    // destructors have run.
    static auto* space = new CellSpace();
    return *space;
  }

  // Adds n (modulo 2^64) to this thread's cell for `index`.
  STATUSZ_ALWAYS_INLINE static void add(std::uint32_t index,
                                        std::uint64_t n) noexcept {
    Local& t = local();
    if (STATUSZ_LIKELY(index < t.capacity)) {
      bump(t.cells[index], n);
      return;
    }
    add_slow(index, n);
  }

  // The calling thread's own cell for `index`, or nullptr until an add() to
  // it has given this thread an array that covers it. For per-thread state
  // other than a count (a Histogram keeps a pointer to its thread's shard
  // there): a record changes threads only whole, so the cell stays private.
  STATUSZ_ALWAYS_INLINE static Cell* own_cell(std::uint32_t index) noexcept {
    Local& t = local();
    return index < t.capacity ? &t.cells[index] : nullptr;
  }

  // own_cell() in two steps, for a caller that branches once: whether the
  // calling thread's array covers `index`, and then its cell there.
  STATUSZ_ALWAYS_INLINE static bool covers(std::uint32_t index) noexcept {
    return index < local().capacity;
  }
  STATUSZ_ALWAYS_INLINE static Cell& covered_cell(
      std::uint32_t index) noexcept {
    return local().cells[index];
  }

  // c += n for a cell only the calling thread writes (readers load it
  // atomically). On x86-64 with gcc/clang: one `add` to memory in inline asm
  // whose only memory operand is the cell, instead of a load, an add and a
  // store (measured 0.75 against 0.8-1.3 ns per mark here, bench/README.md).
  // Aligned 8-byte stores are atomic on x86-64, so a concurrent reader sees
  // the old or the new count. Elsewhere, and under ThreadSanitizer (which
  // cannot see into asm), a relaxed load + store.
  STATUSZ_ALWAYS_INLINE static void bump(Cell& c, std::uint64_t n) noexcept {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(__SANITIZE_THREAD__) && !STATUSZ_HAS_TSAN
    __asm__ __volatile__("addq %1, %0" : "+m"(c) : "er"(n));
#else
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
#endif
  }

  // The total (modulo 2^64) of `index` over every thread that ever counted it.
  // While a ReadGuard lives, no array a reader may hold is freed (arrays a
  // thread outgrows are freed once no reader is in flight). Two atomic
  // read-modify-writes on a word only readers write: writers never wait.
  class ReadGuard {
   public:
    explicit ReadGuard(const CellSpace& s) noexcept : s_(s) {
      s_.readers_.fetch_add(1, std::memory_order_seq_cst);
    }
    ~ReadGuard() { s_.readers_.fetch_sub(1, std::memory_order_seq_cst); }
    ReadGuard(const ReadGuard&) = delete;
    ReadGuard& operator=(const ReadGuard&) = delete;

   private:
    const CellSpace& s_;
  };

  // The total (modulo 2^64) of `index` over every thread that ever counted it.
  std::uint64_t sum(std::uint32_t index) const noexcept {
    ReadGuard g(*this);
    return sum_guarded(index);
  }
  // The same, for a caller that holds a ReadGuard (many sums, one guard).
  std::uint64_t sum_guarded(std::uint32_t index) const noexcept {
    std::uint64_t total = 0;
    for (ThreadRecord* rec = head_.load(std::memory_order_acquire);
         rec != nullptr; rec = rec->next) {
      const Array* a = rec->array.load(std::memory_order_seq_cst);
      if (a != nullptr && index < a->capacity) {
        total += a->cells()[index].load(std::memory_order_relaxed);
      }
    }
    return total;
  }

  std::uint32_t reserve() {
    std::lock_guard<std::mutex> g(mu_);
    if (!free_.empty()) {
      std::uint32_t i = free_.back();
      free_.pop_back();
      return i;
    }
    if (next_index_ == UINT32_MAX) throw std::bad_alloc();
    return next_index_++;
  }

  void release(std::uint32_t index) noexcept {
    std::lock_guard<std::mutex> g(mu_);
    free_retired_locked();
    for (ThreadRecord* rec = head_.load(std::memory_order_relaxed);
         rec != nullptr; rec = rec->next) {
      Array* a = rec->array.load(std::memory_order_relaxed);
      if (a != nullptr && index < a->capacity) {
        a->cells()[index].store(0, std::memory_order_relaxed);
      }
    }
    try {
      free_.push_back(index);
    } catch (...) {
      // Out of memory: the index is leaked, nothing else.
    }
  }

  // Number of thread records (the peak number of threads counting at once).
  std::size_t records() const noexcept {
    std::size_t n = 0;
    for (ThreadRecord* rec = head_.load(std::memory_order_acquire);
         rec != nullptr; rec = rec->next) {
      ++n;
    }
    return n;
  }

  // Records not owned by a live thread (free for the next counting thread).
  std::size_t free_records() const noexcept {
    std::size_t n = 0;
    for (ThreadRecord* rec = head_.load(std::memory_order_acquire);
         rec != nullptr; rec = rec->next) {
      if (!rec->in_use.load(std::memory_order_acquire)) ++n;
    }
    return n;
  }

 private:
  // A 64-byte header followed in the same allocation by `capacity` cells.
  struct alignas(64) Array {
    std::size_t capacity;
    Cell* cells() noexcept { return reinterpret_cast<Cell*>(this + 1); }
    const Cell* cells() const noexcept {
      return reinterpret_cast<const Cell*>(this + 1);
    }
  };

  struct alignas(64) ThreadRecord {
    std::atomic<Array*> array{nullptr};
    ThreadRecord* next = nullptr;  // immutable once published
    std::atomic<bool> in_use{true};
  };

  // The calling thread's view of its record: what add() reads. Trivially
  // destructible and constant-initialised, so reaching it costs no guard.
  struct Local {
    Cell* cells;
    std::size_t capacity;  // 0 until the first add and after thread exit
    ThreadRecord* rec;
    bool exited;  // this thread's record was handed back
  };

  static Local& local() noexcept {
    static thread_local Local t{nullptr, 0, nullptr, false};
    return t;
  }

  // Hands this thread's record back at thread exit.
  struct RecordOwner {
    bool armed = false;
    ~RecordOwner() {
      if (!armed) return;
      Local& t = local();
      ThreadRecord* rec = t.rec;
      t = Local{nullptr, 0, nullptr, true};
      if (rec != nullptr) rec->in_use.store(false, std::memory_order_release);
    }
  };

  CellSpace() {
    ForkGate::instance().add_lock_hooks({&CellSpace::before_fork,
                                         &CellSpace::after_fork_parent,
                                         &CellSpace::after_fork_child, this});
  }

  static void before_fork(void* space) noexcept {
    static_cast<CellSpace*>(space)->mu_.lock();
  }
  static void after_fork_parent(void* space) noexcept {
    static_cast<CellSpace*>(space)->mu_.unlock();
  }
  static void after_fork_child(void* space) noexcept {
    CellSpace& s = *static_cast<CellSpace*>(space);
    // Only the forking thread exists in the child: every other record
    // (with its counts) is free for the child's threads.
    ThreadRecord* mine = local().rec;
    for (ThreadRecord* rec = s.head_.load(std::memory_order_relaxed);
         rec != nullptr; rec = rec->next) {
      if (rec != mine) rec->in_use.store(false, std::memory_order_relaxed);
    }
    s.readers_.store(0, std::memory_order_relaxed);  // no reader survived
    s.mu_.unlock();
  }

  static Array* make_array(std::size_t capacity, Array* from) {
    void* raw = ::operator new (sizeof(Array) + capacity * sizeof(Cell),
                                std::align_val_t{alignof(Array)});
    auto* a = static_cast<Array*>(raw);
    a->capacity = capacity;
    Cell* cells = a->cells();
    for (std::size_t i = 0; i < capacity; ++i) {
      std::uint64_t v = 0;
      if (from != nullptr && i < from->capacity) {
        v = from->cells()[i].load(std::memory_order_relaxed);
      }
      new (&cells[i]) Cell(v);
    }
    return a;
  }

  // Claims a free record, or makes a new one. Lock-free unless it allocates.
  ThreadRecord* claim_record() {
    for (ThreadRecord* rec = head_.load(std::memory_order_acquire);
         rec != nullptr; rec = rec->next) {
      bool expected = false;
      if (!rec->in_use.load(std::memory_order_relaxed) &&
          rec->in_use.compare_exchange_strong(expected, true,
                                              std::memory_order_acquire)) {
        return rec;
      }
    }
    auto* rec = new ThreadRecord();
    std::lock_guard<std::mutex> g(mu_);
    rec->next = head_.load(std::memory_order_relaxed);
    head_.store(rec, std::memory_order_release);
    return rec;
  }

  // Makes rec's array cover `index`; returns the array. Called by the thread
  // that owns rec.
  Array* cover(ThreadRecord* rec, std::uint32_t index) {
    Array* a = rec->array.load(std::memory_order_relaxed);
    if (a != nullptr && index < a->capacity) return a;
    std::size_t capacity = a != nullptr ? a->capacity : kMinCells;
    while (capacity <= index) capacity *= 2;
    // Under the mutex: release() zeroes cells of every record under it, and
    // the copy must not resurrect a count it zeroed.
    std::lock_guard<std::mutex> g(mu_);
    Array* old = rec->array.load(std::memory_order_relaxed);
    retired_.reserve(retired_.size() + 1);
    a = make_array(capacity, old);
    rec->array.store(a, std::memory_order_seq_cst);
    if (old != nullptr) retired_.push_back(old);
    free_retired_locked();
    return a;
  }

  STATUSZ_NOINLINE_COLD static void add_slow(std::uint32_t index,
                                             std::uint64_t n) noexcept {
    CellSpace& s = instance();
    Local& t = local();
    try {
      if (t.exited) {
        // After this thread's record was handed back: borrow one.
        ThreadRecord* rec = s.claim_record();
        Array* a = s.cover(rec, index);
        Cell& c = a->cells()[index];
        c.store(c.load(std::memory_order_relaxed) + n,
                std::memory_order_relaxed);
        rec->in_use.store(false, std::memory_order_release);
        return;
      }
      if (t.rec == nullptr) {
        static thread_local RecordOwner owner;
        t.rec = s.claim_record();
        owner.armed = true;
      }
      Array* a = s.cover(t.rec, index);
      t.cells = a->cells();
      t.capacity = a->capacity;
    } catch (...) {
      return;  // Out of memory: this count is dropped, nothing else.
    }
    Cell& c = t.cells[index];
    c.store(c.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }

  // Frees the outgrown arrays if no reader is in flight. Under mu_. A reader
  // that starts after the check (seq_cst order: new array stored, then
  // readers_ read as 0) loads the new arrays, never the outgrown ones.
  void free_retired_locked() noexcept {
    if (retired_.empty() || readers_.load(std::memory_order_seq_cst) != 0) {
      return;
    }
    for (Array* a : retired_) {
      ::operator delete (a, std::align_val_t{alignof(Array)});
    }
    retired_.clear();
  }

  std::atomic<ThreadRecord*> head_{nullptr};
  mutable std::atomic<std::uint64_t> readers_{0};
  std::vector<Array*> retired_;  // outgrown arrays not yet freed
  std::mutex mu_;
  std::vector<std::uint32_t> free_;
  std::uint32_t next_index_ = 0;
};

// A store of cells shared by processes (detail/shm.hpp): what a CellIndex of
// a shared registry counts into. add_slow() is taken by a thread's first add
// to a store (it claims the thread's slot there) and when the thread last
// counted into another store.
class SharedCells {
 public:
  virtual void add_slow(std::uint32_t index, std::uint64_t n) noexcept = 0;
  // The pool's value of `index` under the metric's aggregation mode.
  virtual std::uint64_t value(std::uint32_t index) const noexcept = 0;
  // Makes the calling process's own value of `index` v (Counter::set()).
  virtual void set_own(std::uint32_t index, std::uint64_t v) noexcept = 0;

 protected:
  SharedCells() = default;
  SharedCells(const SharedCells&) = default;
  SharedCells& operator=(const SharedCells&) = default;
  ~SharedCells() = default;
};

// The calling thread's slot in the shared store it last counted into: the
// store's process-unique id (never reused; 0: none) and the slot's cells.
struct SharedLocal {
  std::uint64_t store_id;
  CellSpace::Cell* cells;
};
inline SharedLocal& shared_local() noexcept {
  static thread_local SharedLocal t{0, nullptr};
  return t;
}

// One reserved cell index, released on destruction; or a cell of a shared
// store (a metric of a shared registry), which add() reaches through the
// calling thread's cached slot: the same loads as a private add.
class CellIndex {
 public:
  // Where a shared cell is: its store, the store's id, the cell's index.
  struct Shared {
    SharedCells* store;
    std::uint64_t store_id;
    std::uint32_t index;
  };

  CellIndex() : index_(CellSpace::instance().reserve()) {}
  explicit CellIndex(Shared s) noexcept
      : index_(s.index), shared_(s.store), shared_id_(s.store_id) {}
  ~CellIndex() {
    if (shared_ == nullptr) CellSpace::instance().release(index_);
  }
  CellIndex(const CellIndex&) = delete;
  CellIndex& operator=(const CellIndex&) = delete;

  // No branch hint here: gcc lays out whichever path is hinted as fall-through
  // and the other as a jump away and back. Hinting the private path made a
  // private mark ~0.25 ns faster and a shared one ~0.4 ns slower (shared /
  // private 1.4-1.75 against ~1.0, issue 14's bound 1.5; bench_shared.cpp).
  STATUSZ_ALWAYS_INLINE void add(std::uint64_t n) const noexcept {
    if (shared_ == nullptr) {
      CellSpace::add(index_, n);
      return;
    }
    SharedLocal& t = shared_local();
    if (t.store_id == shared_id_) {
      CellSpace::bump(t.cells[index_], n);
      return;
    }
    shared_->add_slow(index_, n);
  }
  std::uint64_t sum() const noexcept {
    if (shared_ != nullptr) return shared_->value(index_);
    return CellSpace::instance().sum(index_);
  }
  std::uint32_t index() const noexcept { return index_; }
  SharedCells* shared() const noexcept { return shared_; }

 private:
  std::uint32_t index_;
  SharedCells* shared_ = nullptr;
  std::uint64_t shared_id_ = 0;
};

}  // namespace statusz::detail
