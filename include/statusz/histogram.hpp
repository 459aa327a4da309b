// statusz::Histogram: the distribution of non-negative integers (durations in
// nanoseconds for a Timer, sizes, queue depths), cumulative since creation and
// over a sliding window of the last N 5-second ticks (60 s by default).
//
// Buckets (log-linear, as HdrHistogram and Prometheus native histograms): the
// values 0..127 have a bucket each (exact); above, each power of two
// [2^e, 2^(e+1)) for e = 7..63 is cut into 64 equal sub-buckets of width
// 2^(e-6). Bucket i holds [bucket_lower(i), bucket_upper(i)]; 3776 buckets
// cover the whole uint64 range. A bucket's width is at most 1/64 of its lower
// end, so its midpoint is within 1/128 (0.79 %) of every value in it: each
// quantile, the window's min and max, and stddev (within 1/128 of the values'
// root mean square) are within that bound; 0 and every value below 128 are
// exact. count, sum (modulo 2^64), and the cumulative min and max are exact.
// Quantiles use the nearest rank: quantile(q) estimates the ceil(q * count)-th
// smallest value (the first for q = 0, so quantile(0) is min and quantile(1)
// is max).
//
// Window: the ticker of the histogram's clock (the meters' ticker; ManualClock
// ticks synchronously in advance()) samples the bucket totals at each 5-s
// boundary counted from creation; the window is the values recorded in the
// current interval and the N - 1 before it (between (N-1)*5 s and N*5 s of
// history), computed exactly from those samples' differences: no reservoir,
// no decay. A histogram idle for longer than N*5 s has an empty window.
// Values recorded between a boundary and the ticker's run (microseconds with
// SteadyClock) count in the interval before it.
//
// Cost: update() is a count of leading zeros (`lzcnt`, see
// detail::HistogramIndex), two shifts, and two adds (the value's bucket and
// one of its row's four partial sums) to a row of a shard owned by the
// calling thread, reached through that thread's own cell in
// detail::CellSpace: no lock, no atomic read-modify-write, no system call, no
// clock read, nothing written that another writer writes. 25 instructions, 5
// of them compare-and-branch pairs (the thread's array, the shard, the row, a
// new minimum, a new maximum), the slow path out of line: about one relaxed
// shared fetch_add (0.88-1.40 in single runs at gcc -O2 and -O3 on a 2-core
// AMD EPYC, median of ten runs 1.08), 6.0-9.7 times faster than
// prometheus-cpp's Observe (bench/README.md). A thread's first
// update of a histogram allocates its shard (512 bytes), and its first value
// in each power of two from 128 a row of 64 counts and 4 partial sums (544
// bytes; 128 counts and 4 sums, 1056 bytes, for 0..127): values over 3
// decades cost ~6.6 KiB per writing thread. snapshot() and the ticks take the
// histogram's mutex (writers never do) and read every shard: O(threads *
// rows), 5-12 us for 8 threads over 3 decades. Memory for the window: 16
// bytes per non-empty bucket per interval.
// Thread-safety: every member is safe to call from any thread. A Histogram
// must not be destroyed while another thread updates or reads it, nor outlive
// its clock. Shards of exited threads are handed, with their counts, to the
// next thread that counts (as a Meter's cells are).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <mutex>
#include <new>
#include <stdexcept>
#include <utility>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(__LZCNT__)
#include <cpuid.h>
#endif

#include "clock.hpp"
#include "detail/cells.hpp"

namespace statusz {

namespace detail {

// The count of leading zero bits of a non-zero v, for Histogram::update().
// On x86-64, gcc and clang compile __builtin_clzll to `bsr` unless the target
// has LZCNT (-mlzcnt, -march=haswell or later): `bsr` takes 4 cycles a
// value on recent AMD cores, `lzcnt` 1 (most of update()'s cost, measured in
// bench/README.md). So there, update() uses `lzcnt` when the CPU has it
// (cpuid, read once; on CPUs without LZCNT, where the same bytes would run
// as `bsr` and give another number, fast() is false and every update()
// takes an out-of-line path with __builtin_clzll, still lock-free: the
// Histogram's constructor decides, see Histogram::hot_index_). Elsewhere
// fast() is a constant true.
struct HistogramIndex {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(__LZCNT__)
  // Whether leading_zeros() is usable: a flag set at static initialisation
  // (false before it), for a loop that tests it per value (the benchmark's
  // baselines).
  static bool fast() noexcept { return has_lzcnt; }
  // The same, right at any time, for Histogram's constructor (a histogram at
  // namespace scope in another file may be built before has_lzcnt is set).
  static bool fast_when_constructing() noexcept {
    static const bool usable = detect();
    return usable;
  }
  STATUSZ_ALWAYS_INLINE static std::size_t leading_zeros(
      std::uint64_t v) noexcept {
    std::size_t n;
    // "r", not "rm": clang takes "rm" as memory, and stored v to the stack
    // and read it back on every update (2.69 against 3.60 ns, bench/README.md).
    __asm__("lzcnt %1, %0" : "=r"(n) : "r"(v) : "cc");
    return n;
  }

 private:
  static bool detect() noexcept {
    unsigned a = 0, b = 0, c = 0, d = 0;
    // Leaf 0x80000001, ecx bit 5: LZCNT (AMD's ABM).
    return __get_cpuid(0x80000001u, &a, &b, &c, &d) != 0 && (c & 0x20u) != 0;
  }
  static inline const bool has_lzcnt = detect();
#else
  static constexpr bool fast() noexcept { return true; }
  static constexpr bool fast_when_constructing() noexcept { return true; }
  STATUSZ_ALWAYS_INLINE static std::size_t leading_zeros(
      std::uint64_t v) noexcept {
    return portable_leading_zeros(v);
  }
#endif

 public:
  static constexpr unsigned portable_leading_zeros(std::uint64_t v) noexcept {
#if defined(__GNUC__) || defined(__clang__)
    return static_cast<unsigned>(__builtin_clzll(v));
#else
    unsigned n = 0;
    for (std::uint64_t bit = std::uint64_t{1} << 63; (v & bit) == 0; bit >>= 1)
      ++n;
    return n;
#endif
  }
};

struct HistogramTestAccess;  // defined by tests/cpp/test_histogram.cpp

}  // namespace detail

// A non-empty bucket of a snapshot.
struct HistogramBucket {
  std::uint32_t index = 0;  // Histogram::bucket_lower(index) .. upper(index)
  std::uint64_t count = 0;
};

// One distribution: the cumulative one or the window's.
struct Distribution {
  std::uint64_t count = 0;
  std::uint64_t sum = 0;  // modulo 2^64
  std::uint64_t min = 0;  // 0 when empty
  std::uint64_t max = 0;
  std::vector<HistogramBucket> buckets;  // non-empty ones, ascending

  bool empty() const noexcept { return count == 0; }
  double mean() const noexcept {
    return count == 0 ? 0.0
                      : static_cast<double>(sum) / static_cast<double>(count);
  }
  // The population standard deviation of the buckets' midpoints.
  double stddev() const noexcept;
  // The ceil(q * count)-th smallest value (nearest rank), as its bucket's
  // midpoint clamped to [min, max]; 0 when empty. Throws
  // std::invalid_argument unless 0 <= q <= 1.
  double quantile(double q) const;
  // How many values are <= le: exact when le is a bucket's upper end
  // (Histogram::bucket_upper), otherwise counts le's whole bucket.
  std::uint64_t count_at_most(std::uint64_t le) const noexcept;
};

struct HistogramSnapshot : Distribution {  // cumulative, since creation
  Distribution window;                     // the sliding window
};

class Histogram final : private detail::Tickable {
 public:
  static constexpr unsigned kSubBucketBits = 6;
  static constexpr std::size_t kSubBuckets = std::size_t{1} << kSubBucketBits;
  static constexpr std::size_t kBuckets = 3776;
  static constexpr std::size_t kChunks = kBuckets / kSubBuckets;
  // A reported quantile's largest error, relative to the exact one.
  static constexpr double kMaxRelativeError = 1.0 / 128;
  static constexpr Nanos kTickInterval = std::chrono::seconds(5);
  static constexpr std::size_t kDefaultWindowTicks = 12;  // 60 s

  static constexpr std::size_t bucket_index(std::uint64_t v) noexcept {
    const unsigned shift =
        63u - kSubBucketBits -
        detail::HistogramIndex::portable_leading_zeros(v | 64u);
    return (std::size_t{shift} << kSubBucketBits) +
           static_cast<std::size_t>(v >> shift);
  }
  static constexpr std::uint64_t bucket_lower(std::size_t i) noexcept {
    if (i < kSubBuckets) return i;
    return (kSubBuckets + (i & (kSubBuckets - 1)))
           << ((i >> kSubBucketBits) - 1);
  }
  static constexpr std::uint64_t bucket_upper(std::size_t i) noexcept {
    if (i < kSubBuckets) return i;
    const std::uint64_t width = std::uint64_t{1} << ((i >> kSubBucketBits) - 1);
    return bucket_lower(i) + (width - 1);
  }
  static double bucket_midpoint(std::size_t i) noexcept {
    return static_cast<double>(bucket_lower(i)) +
           static_cast<double>(bucket_upper(i) - bucket_lower(i)) / 2;
  }

  // window_ticks: the window's length in 5-s intervals (at least 1).
  explicit Histogram(Clock& clock = default_clock(),
                     std::size_t window_ticks = kDefaultWindowTicks)
      : Histogram(clock, window_ticks,
                  detail::HistogramIndex::fast_when_constructing()) {}
  ~Histogram() {
    clock_->detach(*this);
    for (Shard* s = head_.load(std::memory_order_acquire); s != nullptr;) {
      Shard* next = s->next;
      delete s;
      s = next;
    }
  }
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  STATUSZ_ALWAYS_INLINE void update(std::uint64_t value) noexcept {
    const std::uint32_t index = hot_index_;
    if (detail::CellSpace::covers(index)) {
      Shard* s = shard_of(detail::CellSpace::covered_cell(index));
      if (s != nullptr) {
        const std::size_t lz =
            detail::HistogramIndex::leading_zeros(value | 64u);
        Cell* row = s->rows[lz].load(std::memory_order_relaxed);
        if (row != nullptr) {
          s->record(row, row_offset(value, lz), value);
          return;
        }
      }
    }
    update_slow(value);
  }

  // Both views, consistent with each other (ticks due are run first).
  HistogramSnapshot snapshot() const {
    const Nanos now = clock_->now();
    detail::ForkGate::Section fork_gate;  // fork() never copies mu_ held
    std::lock_guard<std::mutex> g(mu_);
    advance(now);
    Totals t = collect();
    HistogramSnapshot out;
    out.count = t.count;
    out.sum = t.sum;
    out.min = t.count == 0 ? 0 : t.min;
    out.max = t.max;
    // The window: now - base + the completed intervals, bucket by bucket.
    // Every bucket of those is one of now's (counts never go down), so the
    // window is computed in place in a copy of now's buckets.
    Distribution& w = out.window;
    w.buckets = t.buckets;
    const auto apply = [&w](const std::vector<HistogramBucket>& part,
                            bool subtract) {
      auto k = w.buckets.begin();
      for (const HistogramBucket& b : part) {
        while (k != w.buckets.end() && k->index < b.index) ++k;
        if (k == w.buckets.end()) break;
        if (k->index != b.index) continue;
        k->count = subtract ? k->count - b.count : k->count + b.count;
      }
    };
    w.sum = t.sum - base_.sum;
    apply(base_.buckets, true);
    for (const Interval& iv : ring_) {
      w.sum += iv.sum;
      apply(iv.buckets, false);
    }
    w.buckets.erase(
        std::remove_if(w.buckets.begin(), w.buckets.end(),
                       [](const HistogramBucket& b) { return b.count == 0; }),
        w.buckets.end());
    for (const HistogramBucket& b : w.buckets) w.count += b.count;
    out.buckets = std::move(t.buckets);
    if (!w.buckets.empty()) {
      w.min = clamp_to(bucket_midpoint(w.buckets.front().index), out);
      w.max = clamp_to(bucket_midpoint(w.buckets.back().index), out);
    }
    return out;
  }

  std::size_t window_ticks() const noexcept { return window_ticks_; }
  const Clock& clock() const noexcept { return *clock_; }

 private:
  using Cell = detail::CellSpace::Cell;

  // A value's row is its count of leading zeros after `| 64` (0..57): row 57
  // holds the exact buckets 0..127, row lz < 57 the 64 buckets of
  // [2^(63-lz), 2^(64-lz)), buckets (58 - lz) * 64 .. + 63. Within its row
  // the value is at row_offset(): its 7 bits from the highest set one (the
  // value itself in row 57), minus 64. So a row pointer addresses 64 cells
  // from [0, 64), and row 57's the 128 of [-64, 64).
  static constexpr unsigned kRows = 58;
  static constexpr unsigned kExactRow = 57;
  static constexpr std::ptrdiff_t row_offset(std::uint64_t v,
                                             std::size_t lz) noexcept {
    return static_cast<std::ptrdiff_t>((v << lz) >> 57) - 64;
  }
  static constexpr std::size_t row_first_bucket(unsigned lz) noexcept {
    return lz == kExactRow ? 0 : (kRows - lz) * kSubBuckets;
  }
  static constexpr std::size_t row_before(unsigned lz) noexcept {
    return lz == kExactRow ? kSubBuckets : 0;
  }
  static constexpr std::size_t row_cells(unsigned lz) noexcept {
    return lz == kExactRow ? 2 * kSubBuckets : kSubBuckets;
  }
  // After a row's counts, from row[kRowSum], kRowSums partial sums of its
  // values: a value adds to the one its bucket's place in the row picks
  // (at & 3). An add to memory waits for the previous add to the same
  // address (a store-to-load forward, ~6 cycles here), so one sum per thread
  // made every update wait for the one before, and one sum per row every
  // update after one in the same power of two: what a run of similar
  // values (latencies of one endpoint, a sorted input) gives. With four,
  // consecutive values chain only in buckets four apart or in the same
  // bucket, whose count chains anyway (bench/README.md, issue 12).
  static constexpr std::ptrdiff_t kRowSum = kSubBuckets;
  static constexpr std::size_t kRowSums = 4;
  static constexpr std::ptrdiff_t sum_slot(std::ptrdiff_t at) noexcept {
    return kRowSum + (at & static_cast<std::ptrdiff_t>(kRowSums - 1));
  }

  // A row's counts and sums: whole cache lines of their own (zeroed).
  static Cell* make_row(unsigned lz) {
    const std::size_t n = row_cells(lz) + kRowSums;
    void* raw = ::operator new (n * sizeof(Cell), std::align_val_t{64});
    auto* cells = static_cast<Cell*>(raw);
    for (std::size_t k = 0; k < n; ++k) new (&cells[k]) Cell(0);
    return cells + row_before(lz);
  }
  static void free_row(Cell* row, unsigned lz) noexcept {
    ::operator delete (row - row_before(lz), std::align_val_t{64});
  }

  // One writing thread's counts (one thread at a time: the owner of the
  // CellSpace record whose cell points here).
  struct alignas(64) Shard {
    std::atomic<Cell*> rows[kRows];  // first: update() indexes it directly
    Cell min{std::numeric_limits<std::uint64_t>::max()};
    Cell max{0};
    Shard* next = nullptr;  // immutable once published

    Shard() {
      for (auto& r : rows) r.store(nullptr, std::memory_order_relaxed);
    }

    STATUSZ_ALWAYS_INLINE void record(Cell* row, std::ptrdiff_t at,
                                      std::uint64_t value) noexcept {
      detail::CellSpace::bump(row[at], 1);
      detail::CellSpace::bump(row[sum_slot(at)], value);
      // A new extreme is rare once a few values are in: the common case
      // falls through both tests without a taken branch.
      if (STATUSZ_UNLIKELY(value < min.load(std::memory_order_relaxed))) {
        min.store(value, std::memory_order_relaxed);
      }
      if (STATUSZ_UNLIKELY(value > max.load(std::memory_order_relaxed))) {
        max.store(value, std::memory_order_relaxed);
      }
    }
    ~Shard() {
      for (unsigned lz = 0; lz < kRows; ++lz) {
        Cell* row = rows[lz].load(std::memory_order_relaxed);
        if (row != nullptr) free_row(row, lz);
      }
    }
  };

  // The shard a thread's cell points to (0: none yet).
  static Shard* shard_of(const detail::CellSpace::Cell& cell) noexcept {
    const auto bits =
        static_cast<std::uintptr_t>(cell.load(std::memory_order_relaxed));
    // The cell holds a pointer, stored by update_slow().
    return reinterpret_cast<Shard*>(bits);  // NOLINT(performance-no-int-to-ptr)
  }

  struct Totals {
    std::uint64_t count = 0;
    std::uint64_t sum = 0;
    std::uint64_t min = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t max = 0;
    std::vector<HistogramBucket> buckets;
  };
  // One completed interval's values.
  struct Interval {
    std::uint64_t sum = 0;
    std::vector<HistogramBucket> buckets;
  };

  static std::uint64_t clamp_to(double mid, const Distribution& d) noexcept {
    if (mid <= static_cast<double>(d.min)) return d.min;
    if (mid >= static_cast<double>(d.max)) return d.max;
    return static_cast<std::uint64_t>(std::round(mid));
  }

  // update() when the CPU lacks LZCNT (detail::HistogramIndex; lock-free
  // but for the first touch), a thread's first update of a histogram (or of
  // a row), and updates from a thread whose CellSpace record is gone
  // (thread_local destructors at exit), which go to a shard shared under
  // slow_mu_.
  STATUSZ_NOINLINE_COLD void update_slow(std::uint64_t value) noexcept {
    const unsigned lz =
        detail::HistogramIndex::portable_leading_zeros(value | 64u);
    const std::ptrdiff_t at = row_offset(value, lz);
    detail::CellSpace::Cell* own = detail::CellSpace::own_cell(cell_.index());
    if (own != nullptr) {
      Shard* s = shard_of(*own);
      Cell* row =
          s == nullptr ? nullptr : s->rows[lz].load(std::memory_order_relaxed);
      if (row != nullptr) {
        s->record(row, at, value);
        return;
      }
    }
    try {
      if (own == nullptr) {
        detail::CellSpace::add(cell_.index(), 0);  // covers the index
        own = detail::CellSpace::own_cell(cell_.index());
      }
      detail::ForkGate::Section fork_gate;
      std::lock_guard<std::mutex> g(slow_mu_);
      Shard* s = nullptr;
      if (own == nullptr) {
        if (shared_ == nullptr) shared_ = link(new Shard());
        s = shared_;
      } else {
        s = shard_of(*own);
        if (s == nullptr) {
          s = link(new Shard());
          own->store(reinterpret_cast<std::uintptr_t>(s),
                     std::memory_order_relaxed);
        }
      }
      Cell* row = s->rows[lz].load(std::memory_order_relaxed);
      if (row == nullptr) {
        row = make_row(lz);
        s->rows[lz].store(row, std::memory_order_release);
      }
      // The shared shard has several writers, all under slow_mu_.
      s->record(row, at, value);
    } catch (...) {
      // Out of memory: this value is dropped, nothing else.
    }
  }

  // Under slow_mu_.
  Shard* link(Shard* s) noexcept {
    s->next = head_.load(std::memory_order_relaxed);
    head_.store(s, std::memory_order_release);
    return s;
  }

  // v.push_back({index, count}), written member by member: gcc builds the
  // braced temporary on the stack with two stores and copies it with one
  // 16-byte load, which the store buffer cannot forward (a ~20-cycle stall
  // per bucket: most of snapshot()'s time, measured in bench/README.md).
  static void append(std::vector<HistogramBucket>& v, std::uint32_t index,
                     std::uint64_t count) {
    HistogramBucket& b = v.emplace_back();
    b.index = index;
    b.count = count;
  }

  // The cumulative totals, from every shard.
  Totals collect() const {
    Totals t;
    std::size_t cells = 0;   // an upper bound of the non-empty buckets
    std::uint64_t seen = 0;  // bit lz: some shard has row lz
    for (const Shard* s = head_.load(std::memory_order_acquire); s != nullptr;
         s = s->next) {
      for (unsigned lz = 0; lz < kRows; ++lz) {
        const std::uint64_t bit = std::uint64_t{1} << lz;
        if ((seen & bit) == 0 &&
            s->rows[lz].load(std::memory_order_acquire) != nullptr) {
          seen |= bit;
          cells += row_cells(lz);
        }
      }
    }
    t.buckets.reserve(cells);
    std::uint64_t counts[2 * kSubBuckets];
    for (unsigned lz = kRows; lz-- > 0;) {  // ascending buckets
      const std::size_t n = row_cells(lz);
      bool any = false;
      for (const Shard* s = head_.load(std::memory_order_acquire); s != nullptr;
           s = s->next) {
        const Cell* row = s->rows[lz].load(std::memory_order_acquire);
        if (row == nullptr) continue;
        row -= row_before(lz);
        if (!any) std::fill(counts, counts + n, 0);
        any = true;
        for (std::size_t k = 0; k < n; ++k) {
          counts[k] += row[k].load(std::memory_order_relaxed);
        }
        for (std::size_t k = n; k < n + kRowSums; ++k) {
          t.sum += row[k].load(std::memory_order_relaxed);
        }
      }
      if (!any) continue;
      const std::size_t first = row_first_bucket(lz);
      for (std::size_t k = 0; k < n; ++k) {
        if (counts[k] == 0) continue;
        append(t.buckets, static_cast<std::uint32_t>(first + k), counts[k]);
        t.count += counts[k];
      }
    }
    for (const Shard* s = head_.load(std::memory_order_acquire); s != nullptr;
         s = s->next) {
      t.min = std::min(t.min, s->min.load(std::memory_order_relaxed));
      t.max = std::max(t.max, s->max.load(std::memory_order_relaxed));
    }
    return t;
  }

  void tick_until(Nanos now) noexcept override {
    std::lock_guard<std::mutex> g(mu_);
    advance(now);
  }
  Nanos next_tick() const noexcept override {
    return Nanos(next_boundary_.load(std::memory_order_relaxed));
  }

  // Runs the boundaries passed by `now`: the interval that ends at the first
  // one gets every value recorded since the last; later ones are empty.
  // Under mu_.
  void advance(Nanos now) const noexcept {
    const Nanos next(next_boundary_.load(std::memory_order_relaxed));
    if (now < next) return;
    const std::int64_t passed = (now - next) / kTickInterval + 1;
    try {
      Totals t = collect();
      Interval iv;
      iv.sum = t.sum - base_.sum;
      std::size_t j = 0;
      for (const HistogramBucket& b : t.buckets) {
        std::uint64_t before = 0;
        while (j < base_.buckets.size() && base_.buckets[j].index < b.index) {
          ++j;
        }
        if (j < base_.buckets.size() && base_.buckets[j].index == b.index) {
          before = base_.buckets[j].count;
        }
        if (b.count != before) append(iv.buckets, b.index, b.count - before);
      }
      base_.sum = t.sum;
      base_.buckets = std::move(t.buckets);
      const std::size_t keep = window_ticks_ - 1;
      if (keep > 0) {
        ring_.push_back(std::move(iv));
        const std::size_t idle =
            static_cast<std::size_t>(std::min<std::int64_t>(
                passed - 1, static_cast<std::int64_t>(keep)));
        for (std::size_t k = 0; k < idle; ++k) ring_.emplace_back();
        while (ring_.size() > keep) ring_.pop_front();
      }
    } catch (...) {
      // Out of memory: the window loses this tick's values.
    }
    const Nanos last = next + (passed - 1) * kTickInterval;
    next_boundary_.store(detail::saturating_add(last, kTickInterval).count(),
                         std::memory_order_relaxed);
  }

  friend struct detail::HistogramTestAccess;
  // use_lzcnt false: every update() takes update_slow(), as on a CPU
  // without LZCNT (the tests reach it through HistogramTestAccess).
  Histogram(Clock& clock, std::size_t window_ticks, bool use_lzcnt)
      : clock_(&clock),
        hot_index_(use_lzcnt ? cell_.index() : kNoHotIndex),
        window_ticks_(window_ticks),
        start_(clock.now()),
        next_boundary_(detail::saturating_add(start_, kTickInterval).count()) {
    if (window_ticks == 0) {
      throw std::invalid_argument("statusz: a window needs at least 1 tick");
    }
    clock_->attach(*this);
  }

  Clock* clock_;
  detail::CellIndex cell_;  // each thread's cell: its Shard*, or 0
  // update()'s index: cell_'s, or kNoHotIndex where `lzcnt` is unusable
  // (detail::HistogramIndex), so that update()'s one compare with the
  // thread's array length also sends every value to update_slow() there.
  // reserve() never hands kNoHotIndex out: an array long enough to cover it
  // holds 0 (no shard) there, which goes to update_slow() as well.
  static constexpr std::uint32_t kNoHotIndex =
      std::numeric_limits<std::uint32_t>::max();
  const std::uint32_t hot_index_;
  const std::size_t window_ticks_;
  const Nanos start_;
  std::atomic<Shard*> head_{nullptr};
  std::mutex slow_mu_;
  Shard* shared_ = nullptr;  // for threads past their record; under slow_mu_
  mutable std::mutex mu_;
  mutable std::atomic<std::int64_t> next_boundary_;
  mutable Interval base_;              // the totals at the last boundary
  mutable std::deque<Interval> ring_;  // the window's completed intervals
};

static_assert(Histogram::bucket_index(~std::uint64_t{0}) ==
              Histogram::kBuckets - 1);
static_assert(Histogram::bucket_upper(Histogram::kBuckets - 1) ==
              ~std::uint64_t{0});

inline double Distribution::stddev() const noexcept {
  if (count < 2) return 0.0;
  double mid_mean = 0;
  for (const HistogramBucket& b : buckets) {
    mid_mean +=
        static_cast<double>(b.count) * Histogram::bucket_midpoint(b.index);
  }
  mid_mean /= static_cast<double>(count);
  double var = 0;
  for (const HistogramBucket& b : buckets) {
    const double d = Histogram::bucket_midpoint(b.index) - mid_mean;
    var += static_cast<double>(b.count) * d * d;
  }
  return std::sqrt(var / static_cast<double>(count));
}

inline double Distribution::quantile(double q) const {
  if (!(q >= 0.0 && q <= 1.0)) {
    throw std::invalid_argument("statusz: a quantile is in [0, 1]");
  }
  if (count == 0) return 0.0;
  if (q == 0.0) return static_cast<double>(min);
  if (q == 1.0) return static_cast<double>(max);
  const double r = std::ceil(q * static_cast<double>(count));
  const std::uint64_t rank =
      r < 1 ? 1
            : (r >= static_cast<double>(count) ? count
                                               : static_cast<std::uint64_t>(r));
  std::uint64_t seen = 0;
  for (const HistogramBucket& b : buckets) {
    seen += b.count;
    if (seen >= rank) {
      const double mid = Histogram::bucket_midpoint(b.index);
      return std::min(std::max(mid, static_cast<double>(min)),
                      static_cast<double>(max));
    }
  }
  return static_cast<double>(max);
}

inline std::uint64_t Distribution::count_at_most(
    std::uint64_t le) const noexcept {
  const std::size_t last = Histogram::bucket_index(le);
  std::uint64_t n = 0;
  for (const HistogramBucket& b : buckets) {
    if (b.index > last) break;
    n += b.count;
  }
  return n;
}

}  // namespace statusz
